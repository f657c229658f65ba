/**
 * Remote read on the store's thread: the series a query's matchers select, their samples in the time
 * range (read through the `series` and `samples` views, so whatever those views cover is read), and
 * the answer encoded (src/read/read-response.ts). Runs on a reader connection inside a READ ONLY
 * transaction, so every query of a request sees the same snapshot.
 *
 *   1. series: `SELECT id, labels FROM series WHERE tenant = ? [AND metric = ?] [AND labels[n] = ?]`:
 *      equality matchers with a value are pushed down; every matcher is then applied to the label
 *      sets that came back (Prometheus' semantics, Go regexes: src/read/label-matcher.ts).
 *   2. samples: `SELECT series_id, ts, value FROM samples WHERE series_id IN (...) AND ts BETWEEN ...
 *      LIMIT max + 1`: more than `maxSamples` is read_too_large.
 *   3. the samples are put in order here, series by label set (as Prometheus orders them) and each
 *      series' samples by time: a counting sort by series, then a check (and a sort where needed) per
 *      series. Measured on 240,000 samples: ORDER BY series_id, ts in DuckDB cost 250 ms of a 350 ms
 *      query; this costs a few ms. Then the answer is encoded.
 *
 * Values are copied from DuckDB's result vectors as bytes, never through a JavaScript number, so stale
 * markers keep their bits. Like the query route, the statements run task by task (no libuv thread is
 * held for a whole query), bounded in time (the connection is interrupted).
 */
import { DuckDBPendingResultState, type DuckDBConnection, type DuckDBMapValue, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'
import { IngestError } from '../../errors.js'
import { snappyCompress } from '../../encode/snappy-encode.js'
import { compareLabelSets, LabelMatcher, selectsAll, seriesConditions, sqlString } from '../../read/label-matcher.js'
import type { ReadQuery } from '../../read/read-request.js'
import { encodeChunkedSeries, encodeReadResponse, type LabelPairs, type SeriesColumns } from '../../read/read-response.js'

export interface StoreReadRequest {
  readonly tenant: string
  readonly queries: readonly ReadQuery[]
  /** 0 SAMPLES, 1 STREAMED_XOR_CHUNKS. */
  readonly responseType: number
  /** Most samples one query may return (read-max-samples); more is read_too_large. */
  readonly maxSamples: number
  readonly timeoutMs: number
}

export interface StoreReadAnswer {
  /** The body as sent: a snappy block (SAMPLES) or the frames one after the other (streamed). */
  readonly body: Uint8Array
  readonly series: number
  readonly samples: number
}

/** Timestamps DuckDB's TIMESTAMP can hold, in ms (about ±285,000 years); query bounds are clamped to them. */
const MAX_MS = 9_000_000_000_000_000 / 1000

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** Runs a statement task by task (see query-guard.ts for why), then streams its result. */
async function runStreaming (connection: DuckDBConnection, sql: string, deadline: number, signal?: AbortSignal): Promise<DuckDBResult> {
  const pending = await connection.startStream(sql)
  for (;;) {
    const state = pending.runTask()
    if (state === DuckDBPendingResultState.RESULT_READY) break
    if (Date.now() > deadline || signal?.aborted === true) connection.interrupt()
    // Between tasks the thread's event loop runs (the writer's work): setImmediate, as setTimeout(0)
    // waits a whole millisecond each time, which added up to hundreds of ms on a large read.
    if (state === DuckDBPendingResultState.NO_TASKS_AVAILABLE) await sleep(1)
    else await new Promise(resolve => setImmediate(resolve))
  }
  return await pending.getResult()
}

function failed (err: unknown, deadline: number, timeoutMs: number): IngestError {
  if (err instanceof IngestError) return err
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/^Failure running pending result task: /, '')
  if (/INTERRUPT/i.test(message) && Date.now() > deadline) return new IngestError('query_failed', `the remote read was stopped: it ran longer than ${timeoutMs} ms (query-timeout)`)
  return new IngestError('query_failed', `the remote read failed: ${message}`)
}

/** Growable columns of the samples read (series id, ms, value words). */
class SampleBuffer {
  ids = new Uint32Array(1024)
  ts = new Float64Array(1024)
  words = new Uint32Array(2048)
  length = 0

  reserve (n: number): void {
    if (this.length + n <= this.ids.length) return
    let size = this.ids.length * 2
    while (size < this.length + n) size *= 2
    const ids = new Uint32Array(size); ids.set(this.ids.subarray(0, this.length)); this.ids = ids
    const ts = new Float64Array(size); ts.set(this.ts.subarray(0, this.length)); this.ts = ts
    const words = new Uint32Array(2 * size); words.set(this.words.subarray(0, 2 * this.length)); this.words = words
  }
}

interface SelectedSeries { readonly id: number, readonly labels: LabelPairs }

/**
 * The series the matchers select. `where` is the SQL that found the candidates; `all` says that every
 * candidate was selected, so that the samples query can name them by that SQL instead of by a list.
 */
interface Selection { readonly series: SelectedSeries[], readonly where: string, readonly all: boolean }

async function selectSeries (connection: DuckDBConnection, tenant: string, matchers: readonly LabelMatcher[], deadline: number, signal?: AbortSignal): Promise<Selection> {
  const where = [`tenant = ${sqlString(tenant)!}`, ...seriesConditions(matchers)].join(' AND ')
  const result = await runStreaming(connection, `SELECT id, labels FROM series WHERE ${where}`, deadline, signal)
  const out: SelectedSeries[] = []
  let candidates = 0
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    candidates += chunk.rowCount
    for (let r = 0; r < chunk.rowCount; r++) {
      const row = chunk.getRowValues(r) as DuckDBValue[]
      const map = row[1] as DuckDBMapValue
      const labels: Array<[string, string]> = map.entries.map(e => [String(e.key), String(e.value)])
      const byName = new Map(labels)
      if (selectsAll(matchers, byName)) out.push({ id: Number(row[0]), labels })
    }
    if (Date.now() > deadline) connection.interrupt()
  }
  return { series: out, where, all: out.length === candidates }
}

async function readSamples (connection: DuckDBConnection, selection: Selection, q: ReadQuery, maxSamples: number, deadline: number, signal?: AbortSignal): Promise<SampleBuffer> {
  const buf = new SampleBuffer()
  if (selection.series.length === 0) return buf
  // Every candidate selected: named by the query that found them (no list of ids in the SQL text).
  const ids = selection.all ? `SELECT id FROM series WHERE ${selection.where}` : selection.series.map(s => s.id).join(',')
  const start = Math.max(-MAX_MS, Math.min(MAX_MS, q.startMs))
  const end = Math.max(-MAX_MS, Math.min(MAX_MS, q.endMs))
  const sql = `SELECT series_id, ts, value FROM samples
    WHERE series_id IN (${ids}) AND ts >= epoch_ms(${start}::BIGINT) AND ts <= epoch_ms(${end}::BIGINT)
    LIMIT ${maxSamples + 1}`
  const result = await runStreaming(connection, sql, deadline, signal)
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    const n = chunk.rowCount
    if (buf.length + n > maxSamples) {
      throw new IngestError('read_too_large', `the remote read query selects more than ${maxSamples} samples (read-max-samples): narrow its matchers or its time range`)
    }
    buf.reserve(n)
    // Raw vectors: UINTEGER ids, TIMESTAMP microseconds (int64), DOUBLE values as their bytes.
    const idBytes = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk.chunk, 0), 4 * n)
    const tsBytes = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk.chunk, 1), 8 * n)
    const valueBytes = duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk.chunk, 2), 8 * n)
    const idView = new DataView(idBytes.buffer, idBytes.byteOffset, idBytes.byteLength)
    const tsView = new DataView(tsBytes.buffer, tsBytes.byteOffset, tsBytes.byteLength)
    const valueView = new DataView(valueBytes.buffer, valueBytes.byteOffset, valueBytes.byteLength)
    const at = buf.length
    for (let i = 0; i < n; i++) {
      buf.ids[at + i] = idView.getUint32(4 * i, true)
      // Microseconds as two words: exact (below 2^53), no BigInt per sample.
      const micros = tsView.getInt32(8 * i + 4, true) * 4294967296 + tsView.getUint32(8 * i, true)
      buf.ts[at + i] = Math.floor(micros / 1000)
      buf.words[2 * (at + i)] = valueView.getUint32(8 * i, true)
      buf.words[2 * (at + i) + 1] = valueView.getUint32(8 * i + 4, true)
    }
    buf.length += n
    if (Date.now() > deadline || signal?.aborted === true) connection.interrupt()
  }
  return buf
}

/** Series ids below this are ranked through a typed array (one load a sample), above through a Map. */
const DENSE_IDS = 1 << 24

/** The columns of one query: its selected series that have samples, in label order, each in time order. */
function columnsOf (selected: readonly SelectedSeries[], buf: SampleBuffer): SeriesColumns {
  const sorted = [...selected].sort((a, b) => compareLabelSets(a.labels, b.labels))
  let maxId = 0
  for (const s of sorted) if (s.id > maxId) maxId = s.id
  const n = buf.length
  // Each sample's series rank (its place in label order).
  const ranks = new Uint32Array(n)
  if (maxId < DENSE_IDS) {
    const rankOf = new Int32Array(maxId + 1)
    sorted.forEach((s, i) => { rankOf[s.id] = i })
    for (let i = 0; i < n; i++) ranks[i] = rankOf[buf.ids[i]!]!
  } else {
    const rankOf = new Map<number, number>()
    sorted.forEach((s, i) => { rankOf.set(s.id, i) })
    for (let i = 0; i < n; i++) ranks[i] = rankOf.get(buf.ids[i]!)!
  }
  // Counting sort by rank: counts, then where each series starts, then every sample to its place.
  const starts = new Uint32Array(sorted.length + 1)
  for (let i = 0; i < n; i++) starts[ranks[i]! + 1]++
  for (let r = 0; r < sorted.length; r++) starts[r + 1] += starts[r]!
  const fill = starts.slice(0, sorted.length)
  const ts = new Float64Array(n)
  const words = new Uint32Array(2 * n)
  for (let i = 0; i < n; i++) {
    const at = fill[ranks[i]!]!++
    ts[at] = buf.ts[i]!
    words[2 * at] = buf.words[2 * i]!
    words[2 * at + 1] = buf.words[2 * i + 1]!
  }
  // Each series in time order (the view's GROUP BY gives no order): sorted only where it is not.
  const scratch = new SortScratch()
  for (let r = 0; r < sorted.length; r++) sortByTime(ts, words, starts[r]!, starts[r + 1]!, scratch)
  // Series without samples in the range are left out, as Prometheus leaves them out.
  const labels: LabelPairs[] = []
  const offsets: number[] = [0]
  for (let r = 0; r < sorted.length; r++) {
    if (starts[r + 1] === starts[r]) continue
    labels.push(sorted[r]!.labels)
    offsets.push(starts[r + 1]!)
  }
  return { labels, offsets: Uint32Array.from(offsets), ts, words }
}

/** Buffers sortByTime reuses from series to series. */
class SortScratch {
  keys = new Float64Array(256)
  ts = new Float64Array(256)
  words = new Uint32Array(512)
  fit (n: number): void {
    if (n <= this.keys.length) return
    this.keys = new Float64Array(2 * n)
    this.ts = new Float64Array(2 * n)
    this.words = new Uint32Array(4 * n)
  }
}

/**
 * Sorts samples [from, to) by timestamp, carrying their value words; a sorted run costs one pass.
 * Each sample becomes one number, (ts - min) * 2^bits + its index, sorted by the typed array's own
 * numeric sort (no comparator call per pair); when that would pass 2^53, a comparator sort does it.
 */
function sortByTime (ts: Float64Array, words: Uint32Array, from: number, to: number, scratch: SortScratch): void {
  let ordered = true
  let min = ts[from]!
  let max = min
  for (let i = from + 1; i < to; i++) {
    const t = ts[i]!
    if (t < ts[i - 1]!) ordered = false
    if (t < min) min = t
    if (t > max) max = t
  }
  if (ordered) return
  const n = to - from
  scratch.fit(n)
  const scale = 2 ** Math.ceil(Math.log2(n + 1))
  const keys = scratch.keys.subarray(0, n)
  if ((max - min + 1) * scale < 2 ** 53) {
    for (let k = 0; k < n; k++) keys[k] = (ts[from + k]! - min) * scale + k
    keys.sort()
  } else {
    const order = Array.from({ length: n }, (_, k) => k).sort((x, y) => ts[from + x]! - ts[from + y]!)
    for (let k = 0; k < n; k++) keys[k] = order[k]!
  }
  const t = scratch.ts
  const w = scratch.words
  for (let k = 0; k < n; k++) {
    const i = from + (keys[k]! % scale) // the index carried in the key's low bits (or the index itself)
    t[k] = ts[i]!
    w[2 * k] = words[2 * i]!
    w[2 * k + 1] = words[2 * i + 1]!
  }
  ts.set(t.subarray(0, n), from)
  words.set(w.subarray(0, 2 * n), 2 * from)
}

/** Answers a remote-read request on `connection` (a reader the caller holds). */
export async function remoteRead (connection: DuckDBConnection, req: StoreReadRequest, signal?: AbortSignal): Promise<StoreReadAnswer> {
  const deadline = Date.now() + req.timeoutMs
  // Compiled before anything runs: a bad regex is the client's error (400), whatever the store holds.
  const matchers = req.queries.map(q => q.matchers.map(m => LabelMatcher.of(m)))
  await connection.run('BEGIN TRANSACTION READ ONLY')
  const timer = setTimeout(() => connection.interrupt(), req.timeoutMs)
  try {
    const results: SeriesColumns[] = []
    for (let i = 0; i < req.queries.length; i++) {
      const q = req.queries[i]!
      const selection = await selectSeries(connection, req.tenant, matchers[i]!, deadline, signal)
      const buf = await readSamples(connection, selection, q, req.maxSamples, deadline, signal)
      results.push(columnsOf(selection.series, buf))
    }
    let series = 0
    let samples = 0
    for (const r of results) { series += r.labels.length; samples += r.offsets[r.labels.length]! }
    if (req.responseType === 1) {
      const frames: Uint8Array[] = []
      let size = 0
      for (let i = 0; i < results.length; i++) encodeChunkedSeries(i, results[i]!, f => { frames.push(f); size += f.length })
      const body = new Uint8Array(size)
      let at = 0
      for (const f of frames) { body.set(f, at); at += f.length }
      return { body, series, samples }
    }
    return { body: snappyCompress(encodeReadResponse(results)), series, samples }
  } catch (err) {
    throw failed(err, deadline, req.timeoutMs)
  } finally {
    clearTimeout(timer)
    try { await connection.run('ROLLBACK') } catch { /* nothing to roll back */ }
  }
}
