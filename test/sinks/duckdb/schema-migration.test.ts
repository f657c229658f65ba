/**
 * A database written with schema 1 (samples and histograms as tables) is brought to schema 2 when
 * the store opens it: the tables become sample_rows and histogram_rows, keep their rows, and the
 * views samples, histograms and *_with_labels read them with each (series, timestamp) once.
 */
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it } from 'vitest'
import { databaseFile } from '../../../src/sinks/duckdb/open-database.js'
import { SCHEMA_VERSION } from '../../../src/sinks/duckdb/schema.js'
import { encode1 } from '../../fixtures/encode.js'
import { openSink, removeTempDirs, rows, tempDir, TestDecoder } from './helpers.js'

afterAll(removeTempDirs)

const T = Date.UTC(2025, 5, 1)

/** Turns a schema-2 file back into the shape schema 1 had. */
async function downgradeToVersion1 (dir: string): Promise<void> {
  const instance = await DuckDBInstance.create(databaseFile(dir))
  const c = await instance.connect()
  for (const sql of [
    'DROP VIEW samples_with_labels', 'DROP VIEW histograms_with_labels', 'DROP VIEW exemplars_with_labels', 'DROP VIEW samples', 'DROP VIEW histograms',
    'ALTER TABLE sample_rows RENAME TO samples', 'ALTER TABLE histogram_rows RENAME TO histograms',
    `CREATE VIEW samples_with_labels AS SELECT s.metric, s.labels, s.tenant, x.series_id, x.ts, x.value, x.start_ts FROM samples x JOIN series s ON s.id = x.series_id`,
    `CREATE VIEW histograms_with_labels AS SELECT s.metric, s.labels, s.tenant, h.* FROM histograms h JOIN series s ON s.id = h.series_id`,
    `CREATE VIEW exemplars_with_labels AS SELECT s.metric, s.labels AS series_labels, s.tenant, e.series_id, e.ts, e.value, e.labels AS exemplar_labels FROM exemplars e JOIN series s ON s.id = e.series_id`,
    'DELETE FROM prom_ingest_schema', 'INSERT INTO prom_ingest_schema VALUES (1)'
  ]) await c.run(sql)
  c.closeSync()
  instance.closeSync()
}

describe('schema migration', () => {
  it('brings a schema-1 database to the current schema, rows kept, each (series, timestamp) read once', async () => {
    const dir = tempDir()
    const d = new TestDecoder()
    const body = encode1({ timeseries: [{ labels: [['__name__', 'm'], ['i', '1']], samples: [{ value: 1, timestamp: T }, { value: 2, timestamp: T + 1 }] }] }).body
    const a = await openSink(dir, { index: d.index })
    await a.write(d.batch(body))
    await a.close()
    await downgradeToVersion1(dir)

    const second = new TestDecoder()
    const b = await openSink(dir, { index: second.index })
    await b.write(second.batch(body)) // a resend of the same samples
    expect(await rows(b, 'SELECT max(version) AS v FROM prom_ingest_schema')).toEqual([{ v: SCHEMA_VERSION }])
    expect(await rows(b, 'SELECT count(*) AS n FROM sample_rows')).toEqual([{ n: 4 }])
    expect(await rows(b, 'SELECT epoch_ms(ts) AS t, value FROM samples_with_labels ORDER BY ts')).toEqual([{ t: T, value: 1 }, { t: T + 1, value: 2 }])
    await b.close()
  })
})
