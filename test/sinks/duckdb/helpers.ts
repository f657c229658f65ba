
import { mkdtempSync, rmSync, } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'
import { ensureDistBuilt } from '../../helpers/dist-build.js'
import { RowBatch } from '../../../src/batch/row-batch.js'
import { Decoder } from '../../../src/decode/decoder.js'
import { resolveDecodeOptions, type DecodeOptions } from '../../../src/decode/options.js'
import { SeriesIndex } from '../../../src/series/series-index.js'
import { createDuckDbSink, type DuckDbSink, type DuckDbSinkOptions } from '../../../src/sinks/duckdb/duckdb-sink.js'
import { databaseFile } from '../../../src/sinks/duckdb/open-database.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

const dirs: string[] = []

export function tempDir (prefix = 'prom-ingest-duckdb-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

export function removeTempDirs (): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** The sources the sink worker is built from. */
const WORKER_SOURCES = ['src/sinks/duckdb', 'src/batch', 'src/series', 'src/errors.ts']

/**
 * The sink worker runs compiled JavaScript from dist/ (a worker thread cannot load TypeScript
 * sources); a test file run alone builds it here when dist/ is older than its sources.
 */
export function ensureWorkerBuilt (): void {
  ensureDistBuilt(join('dist', 'src', 'sinks', 'duckdb', 'sink-worker.js'), WORKER_SOURCES)
}

export const TEST_SINK: Omit<DuckDbSinkOptions, 'dataDir'> = { commitInterval: 20, commitMaxRows: 1_000_000, retentionMs: 0, memoryLimit: '128MB', threads: 1 }

export async function openSink (dataDir: string, o: Partial<DuckDbSinkOptions> = {}): Promise<DuckDbSink> {
  if ((o.thread ?? 'worker') === 'worker') ensureWorkerBuilt()
  const sink = createDuckDbSink({ ...TEST_SINK, dataDir, ...o })
  await sink.start()
  return sink
}

/** Rows of a read query as JSON values (see result-format.ts: maps become objects, timestamps strings). */
export async function rows (sink: DuckDbSink, sql: string): Promise<Array<Record<string, unknown>>> {
  const out = await sink.query(sql, 'json')
  return JSON.parse(out.body) as Array<Record<string, unknown>>
}

/** A decoder with its own series index (a fresh process, as far as series ids go). */
export class TestDecoder {
  readonly index: SeriesIndex
  private readonly decoder: Decoder

  constructor (index = SeriesIndex.create({ maxSeries: 1 << 16 })) {
    this.index = index
    this.decoder = new Decoder(index)
  }

  /** Decodes an uncompressed body (version '1.0' unless told). */
  batch (body: Uint8Array, o: DecodeOptions = {}): RowBatch {
    const r = resolveDecodeOptions({ compressed: false, ...o })
    const { buffer, firstError } = this.decoder.decode(body, r)
    return new RowBatch(buffer, { tenant: r.tenant, firstError }, this.index)
  }
}

/** `YYYY-MM-DD HH:MM:SS.mmm` as DuckDB prints a TIMESTAMP, for a millisecond time. */
export function tsText (ms: number): string {
  const iso = new Date(ms).toISOString() // 2024-03-02T11:55:59.045Z
  let s = iso.slice(0, 10) + ' ' + iso.slice(11, 23)
  s = s.replace(/\.000$/, '').replace(/(\.\d*?)0+$/, '$1')
  return s
}

/**
 * The raw 64-bit patterns of one DOUBLE column of a query, read from DuckDB's result vectors (never
 * through a JavaScript number), with the database file opened read-only (the service has closed it).
 */
export async function readBits (dataDir: string, sql: string): Promise<bigint[]> {
  const instance = await DuckDBInstance.create(databaseFile(dataDir), { access_mode: 'READ_ONLY' })
  try {
    const connection = await instance.connect()
    const result = await connection.run(sql)
    const out: bigint[] = []
    for (;;) {
      const chunk = await result.fetchChunk()
      if (chunk === null || chunk.rowCount === 0) break
      const data = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk.chunk, 0), 8 * chunk.rowCount)
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
      for (let i = 0; i < chunk.rowCount; i++) out.push(view.getBigUint64(8 * i, true))
    }
    connection.closeSync()
    return out
  } finally {
    instance.closeSync()
  }
}
