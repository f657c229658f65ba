/**
 * Loading the series a store already holds, at start-up: into the stored-series set (so no series
 * row is written twice) and into the process' series index (so a series keeps its id across
 * restarts, and new series get ids above every stored one).
 *
 * Must run before the decode workers see their first request: an id handed out before the load could
 * collide with a stored one.
 */
import type { DuckDBBlobValue, DuckDBConnection } from '@duckdb/node-api'
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

/**
 * Reads every row of `series` (id, tenant, canonical label bytes) and inserts it into the index
 * and/or the stored set. Streams the table chunk by chunk.
 */
export async function loadKnownSeries (connection: DuckDBConnection, index?: SeriesIndexLoader, stored?: StoredSeries): Promise<LoadedSeries> {
  const result = await connection.stream('SELECT id, tenant, label_key FROM series ORDER BY id')
  let count = 0
  let maxId = 0
  let conflicts = 0
  for (;;) {
    const chunk = await result.fetchChunk()
    if (chunk === null || chunk.rowCount === 0) break
    const ids = chunk.getColumnValues(0) as number[]
    const tenants = chunk.getColumnValues(1) as string[]
    const keys = chunk.getColumnValues(2) as DuckDBBlobValue[]
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r]!
      if (index !== undefined) {
        let inserted: boolean
        try {
          inserted = index.insertWithId(keys[r]!.bytes, id, tenants[r]!)
        } catch (err) {
          throw new IngestError('series_load_failed', `loading stored series into the series index failed at series ${id}: ${(err as Error).message}`, { seriesId: id })
        }
        if (!inserted) conflicts++
      }
      stored?.markCommitted(id)
      if (id > maxId) maxId = id
      count++
    }
  }
  return { count, maxId, conflicts }
}
