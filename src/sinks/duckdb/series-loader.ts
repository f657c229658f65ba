/**
 * Loading the series a store already holds, at start-up: into the stored-series set (so no series
 * row is written twice) and into the process' series index (so a series keeps its id across
 * restarts, and new series get ids above every stored one).
 *
 * Must run before the decode workers see their first request: an id handed out before the load could
 * collide with a stored one.
 *
 * Memory: a start must never fail because of series the service accepted earlier, however large
 * their labels. The table is read in id ranges, not in one scan: one 2,048-row chunk of 1 MB label
 * keys would pin 2 GB of blocks, more than any memory limit. A range holds about RANGE_BYTES of
 * keys, sized from the bytes per row seen so far, and is halved when DuckDB runs out of memory on it
 * (down to one id). No ORDER BY: sorting the keys would hold them all at once. Each key is read as
 * bytes straight from DuckDB's vector into the index (one row at a time, never a JavaScript copy of
 * a whole chunk).
 *
 * A key of STORED_KEY_MAX bytes or more is stored empty (batch-appender.ts): it is rebuilt here from
 * the `labels` map, read as the bytes DuckDB holds (`encode`), in the canonical form of
 * src/series/labels.ts.
 */
import type { DuckDBBlobValue, DuckDBBlobVector, DuckDBConnection, DuckDBListValue, DuckDBStructValue, DuckDBVarCharVector } from '@duckdb/node-api'
import { IngestError } from '../../errors.js'
import type { StoredSeries } from './stored-series.js'

/** What loading needs from the series index (src/series/series-index.ts). */
export interface SeriesIndexLoader {
  insertWithId(labelBytes: Uint8Array, id: number, tenant: string): boolean
  readonly size: number
}

export interface LoadedSeries {
  readonly count: number
  readonly maxId: number
  /** Stored series whose labels the index already held under another id (should be 0). */
  readonly conflicts: number
}

/** The canonical label bytes (src/series/labels.ts) of a stored `labels` map, as name and value bytes. */
function canonicalKey (pairs: DuckDBListValue): Uint8Array {
  const items = pairs.items.map(p => {
    const e = (p as DuckDBStructValue).entries
    return [(e.n as DuckDBBlobValue).bytes, (e.v as DuckDBBlobValue).bytes] as const
  })
  const varintSize = (n: number): number => { let s = 1; while (n >= 0x80) { n = Math.floor(n / 128); s++ } return s }
  const innerSize = (n: Uint8Array, v: Uint8Array): number => 1 + varintSize(n.length) + n.length + (v.length > 0 ? 1 + varintSize(v.length) + v.length : 0)
  let size = 0
  for (const [n, v] of items) { const inner = innerSize(n, v); size += 1 + varintSize(inner) + inner }
  const out = new Uint8Array(size)
  let pos = 0
  const varint = (n: number): void => { while (n >= 0x80) { out[pos++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128) } out[pos++] = n }
  for (const [n, v] of items) {
    out[pos++] = 0x0a; varint(innerSize(n, v))
    out[pos++] = 0x0a; varint(n.length); out.set(n, pos); pos += n.length
    if (v.length > 0) { out[pos++] = 0x12; varint(v.length); out.set(v, pos); pos += v.length }
  }
  return out
}

/** Label-key bytes one range query aims at. */
export const RANGE_BYTES = 4 << 20
/** Ids in the first range, before the bytes per row are known. */
const FIRST_SPAN = 256
/** Largest range, in ids (a range is never more than this many rows). */
const MAX_SPAN = 1 << 16

/** Whether a DuckDB error is its out-of-memory error (the buffer pool is full). */
export function isOutOfMemory (err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err)
  return /Out of Memory Error|(failed to|could not) (pin|allocate) (block|data) of size/i.test(message)
}

/**
 * Reads every row of `series` (id, tenant, canonical label bytes) and inserts it into the index
 * and/or the stored set, range by range (see the top of this file).
 */
export async function loadKnownSeries (connection: DuckDBConnection, index?: SeriesIndexLoader, stored?: StoredSeries): Promise<LoadedSeries> {
  const bounds = (await connection.runAndReadAll('SELECT coalesce(min(id), 1)::BIGINT, coalesce(max(id), 0)::BIGINT FROM series')).getRows()[0]!
  const lowest = Number(bounds[0])
  const highest = Number(bounds[1])
  let count = 0
  let maxId = 0
  let conflicts = 0
  let span = FIRST_SPAN
  // Ids already loaded from a range that failed part way (it is read again, halved).
  const done = new Set<number>()
  for (let lo = lowest; lo <= highest;) {
    const hi = Math.min(highest, lo + span - 1)
    let rows = 0
    let bytes = 0
    try {
      const result = await connection.stream(`SELECT id, tenant, label_key,
        CASE WHEN octet_length(label_key) = 0 THEN list_transform(map_entries(labels), e -> {'n': encode(e.key), 'v': encode(e.value)}) END
        FROM series WHERE id BETWEEN ${lo} AND ${hi}`)
      for (;;) {
        const chunk = await result.fetchChunk()
        if (chunk === null || chunk.rowCount === 0) break
        const ids = chunk.getColumnVector(0)
        const tenants = chunk.getColumnVector(1) as DuckDBVarCharVector
        const keys = chunk.getColumnVector(2) as DuckDBBlobVector
        for (let r = 0; r < chunk.rowCount; r++) {
          const id = Number(ids.getItem(r))
          let key = keys.getItemBytes(r)!
          if (key.length === 0) key = canonicalKey(chunk.getColumnVector(3).getItem(r) as DuckDBListValue)
          bytes += key.length
          rows++
          if (done.size > 0 && done.has(id)) continue
          if (index !== undefined) {
            let inserted: boolean
            try {
              inserted = index.insertWithId(key, id, tenants.getItem(r) ?? '')
            } catch (err) {
              throw new IngestError('series_load_failed', `loading stored series into the series index failed at series ${id}: ${(err as Error).message}`, { seriesId: id })
            }
            if (!inserted) conflicts++
          }
          stored?.markCommitted(id)
          done.add(id)
          if (id > maxId) maxId = id
          count++
        }
      }
    } catch (err) {
      if (!isOutOfMemory(err) || span === 1) {
        if (err instanceof IngestError) throw err
        throw new IngestError('sink_failed', `loading stored series ${lo} to ${hi} failed: ${(err as Error).message.split('\n')[0]}`)
      }
      span = Math.max(1, span >> 1) // too much for DuckDB's memory at once: the same range, halved
      continue
    }
    for (const id of done) if (id <= hi) done.delete(id)
    lo = hi + 1
    // Size the next range from what this one held: about RANGE_BYTES, at most 8 times this span.
    const perRow = rows > 0 ? bytes / rows : 0
    span = Math.max(1, Math.min(MAX_SPAN, span * 8, perRow > 0 ? Math.floor(RANGE_BYTES / perRow) : span * 8))
  }
  return { count, maxId, conflicts }
}
