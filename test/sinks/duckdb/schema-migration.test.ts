/**
 * A database written with schema 1 (samples and histograms as tables), 2 (exemplars a table, no
 * blocks) or 3 (no store log mark) is brought to the current schema when the store opens it: the tables become sample_rows,
 * histogram_rows and exemplar_rows, keep their rows, and the views samples, histograms, exemplars
 * and *_with_labels read them (samples and histograms with each (series, timestamp) once).
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseFile } from '../../../src/sinks/duckdb/open-database.js'
import { SCHEMA_VERSION } from '../../../src/sinks/duckdb/schema.js'
import { encode1 } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 5, 1)

/** Turns a schema-4 file back into the shape schema 3 had (no store log mark). */
const TO_VERSION_3 = ['DROP TABLE store_log', 'DELETE FROM prom_ingest_schema', 'INSERT INTO prom_ingest_schema VALUES (3)']

/** Turns a schema-3 file back into the shape schema 2 had (exemplars a table, no blocks). */
const TO_VERSION_2 = [
  'DROP VIEW exemplars_with_labels', 'DROP VIEW exemplars', 'DROP TABLE blocks', 'ALTER TABLE exemplar_rows RENAME TO exemplars',
  `CREATE VIEW exemplars_with_labels AS SELECT s.metric, s.labels AS series_labels, s.tenant, e.series_id, e.ts, e.value, e.labels AS exemplar_labels FROM exemplars e JOIN series s ON s.id = e.series_id`,
  'DELETE FROM prom_ingest_schema', 'INSERT INTO prom_ingest_schema VALUES (2)'
]

async function downgrade (dir: string, version: 1 | 2 | 3): Promise<void> {
  const instance = await DuckDBInstance.create(databaseFile(dir))
  const c = await instance.connect()
  for (const sql of TO_VERSION_3) await c.run(sql)
  if (version <= 2) for (const sql of TO_VERSION_2) await c.run(sql)
  if (version === 1) await toVersion1(c)
  c.closeSync()
  instance.closeSync()
}

/** Turns a schema-2 file back into the shape schema 1 had. */
async function toVersion1 (c: Awaited<ReturnType<DuckDBInstance['connect']>>): Promise<void> {
  for (const sql of [
    'DROP VIEW samples_with_labels', 'DROP VIEW histograms_with_labels', 'DROP VIEW exemplars_with_labels', 'DROP VIEW samples', 'DROP VIEW histograms',
    'ALTER TABLE sample_rows RENAME TO samples', 'ALTER TABLE histogram_rows RENAME TO histograms',
    `CREATE VIEW samples_with_labels AS SELECT s.metric, s.labels, s.tenant, x.series_id, x.ts, x.value, x.start_ts FROM samples x JOIN series s ON s.id = x.series_id`,
    `CREATE VIEW histograms_with_labels AS SELECT s.metric, s.labels, s.tenant, h.* FROM histograms h JOIN series s ON s.id = h.series_id`,
    `CREATE VIEW exemplars_with_labels AS SELECT s.metric, s.labels AS series_labels, s.tenant, e.series_id, e.ts, e.value, e.labels AS exemplar_labels FROM exemplars e JOIN series s ON s.id = e.series_id`,
    'DELETE FROM prom_ingest_schema', 'INSERT INTO prom_ingest_schema VALUES (1)'
  ]) await c.run(sql)
}

describe('schema migration', () => {
  it.each([1, 2, 3] as const)('brings a schema-%i database to the current schema, rows kept, each (series, timestamp) read once', async version => {
    const dir = tempDir()
    const d = new TestDecoder()
    const body = encode1({ timeseries: [{ labels: [['__name__', 'm'], ['i', '1']], samples: [{ value: 1, timestamp: T }, { value: 2, timestamp: T + 1 }], exemplars: [{ labels: [['trace_id', 'a']], value: 1, timestamp: T }] }] }).body
    const a = await openSink(dir, { index: d.index })
    await a.write(d.batch(body))
    await a.close()
    await downgrade(dir, version)

    const second = new TestDecoder()
    const b = await openSink(dir, { index: second.index })
    await b.write(second.batch(body)) // a resend of the same samples
    expect(await rows(b, 'SELECT max(version) AS v FROM prom_ingest_schema')).toEqual([{ v: SCHEMA_VERSION }])
    expect(await rows(b, 'SELECT count(*) AS n FROM sample_rows')).toEqual([{ n: 4 }])
    expect(await rows(b, 'SELECT epoch_ms(ts) AS t, value FROM samples_with_labels ORDER BY ts')).toEqual([{ t: T, value: 1 }, { t: T + 1, value: 2 }])
    expect(await rows(b, 'SELECT count(*) AS n FROM exemplars_with_labels')).toEqual([{ n: 2 }]) // exemplars are not deduplicated
    expect(await rows(b, 'SELECT count(*) AS n FROM blocks')).toEqual([{ n: 0 }])
    expect(await rows(b, 'SELECT committed_to FROM store_log')).toEqual([{ committed_to: 0 }])
    await b.close()
  })
})
