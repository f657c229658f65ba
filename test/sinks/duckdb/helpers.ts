/**
 * Shared by the DuckDB sink tests: temp data directories, a compiled sink worker, sinks opened with
 * test settings, SQL results as plain rows, and batches decoded from fixture requests.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RowBatch } from '../../../src/batch/row-batch.js'
import { Decoder } from '../../../src/decode/decoder.js'
import { resolveDecodeOptions, type DecodeOptions } from '../../../src/decode/options.js'
import { SeriesIndex } from '../../../src/series/series-index.js'
import { createDuckDbSink, type DuckDbSink, type DuckDbSinkOptions } from '../../../src/sinks/duckdb/duckdb-sink.js'

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

function newestMtime (path: string): number {
  if (!statSync(path).isDirectory()) return statSync(path).mtimeMs
  let newest = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/** The sources the sink worker is built from. */
const WORKER_SOURCES = ['src/sinks/duckdb', 'src/batch', 'src/series', 'src/errors.ts']

/**
 * The sink worker runs compiled JavaScript from dist/ (a worker thread cannot load TypeScript
 * sources). `npm test` builds first; a test file run alone builds here when dist/ is older than src/.
 */
export function ensureWorkerBuilt (): void {
  const worker = join(ROOT, 'dist', 'src', 'sinks', 'duckdb', 'sink-worker.js')
  const lock = join(ROOT, 'dist', '.duckdb-test-build.lock')
  const stale = (): boolean => !existsSync(worker) || statSync(worker).mtimeMs < Math.max(...WORKER_SOURCES.map(p => newestMtime(join(ROOT, p))))
  if (!stale()) return
  mkdirSync(join(ROOT, 'dist'), { recursive: true })
  for (let waited = 0; ; waited += 200) {
    // A lock between test processes: another file's build holds it. There is no event across
    // processes to wait on, so this polls (bounded, 2 min); it only runs when dist/ is stale.
    try { mkdirSync(lock); break } catch { /* another test file is building */ }
    if (waited > 120_000) throw new Error('waited 2 min for another build of dist/')
    execFileSync('sleep', ['0.2'])
  }
  try {
    // Emits even when some other part of the tree does not type-check (tsc exits non-zero then).
    if (stale()) { try { execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' }) } catch { /* checked below */ } }
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
  if (!existsSync(worker)) throw new Error(`building dist/ did not produce ${worker}`)
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
