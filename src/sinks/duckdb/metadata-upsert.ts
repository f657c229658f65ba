/**
 * Metric metadata: one row per (tenant, family), upserted at commit.
 *
 * Remote Write 1.0 sends metadata entries by family; 2.0 sends type, help and unit with every series
 * of every request. Writing each would cost a row per series per request for rows that do not change,
 * so entries are kept in memory and written only when they change, or when `last_seen` is older than
 * the refresh interval.
 *
 * Entries are collected per data transaction and written right after it committed, in a statement of
 * their own on the same connection. Only that step writes the metadata table, one transaction at a
 * time (commits are in order), so pipelined transactions never conflict on a metadata row; metadata
 * is descriptive, and a failed write is retried when the entry is next seen.
 */
import { listValue, LIST, VARCHAR, BIGINT, type DuckDBConnection } from '@duckdb/node-api'
import type { RowBatch } from '../../batch/row-batch.js'
import { metricNameOf } from '../../series/labels.js'

interface Entry { type: string, help: string, unit: string, lastSeenMs: number }

/** Rewrite an unchanged entry's last_seen at most this often. */
export const METADATA_REFRESH_MS = 60_000

const UPSERT = `INSERT INTO metadata
  SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[])::metric_type, unnest($4::VARCHAR[]), unnest($5::VARCHAR[]), epoch_ms($6)
  ON CONFLICT (tenant, family) DO UPDATE SET type = excluded.type, help = excluded.help, unit = excluded.unit, last_seen = excluded.last_seen`

export class MetadataUpsert {
  private readonly known = new Map<string, Entry>()
  /** Per transaction: entries to write once it committed. */
  private readonly pending = new Map<number, Map<string, Entry & { tenant: string, family: string }>>()
  /** Family names of RW 2.0 series (series id -> metric name), so labels are decoded once per series. */
  private readonly familyOf = new Map<number, string>()

  /** Notes the batch's metadata entries that differ from what is stored (or about to be). */
  collect (batch: RowBatch, nowMs: number, txn: number): void {
    if (batch.metadataCount === 0) return
    let mine = this.pending.get(txn)
    if (mine === undefined) { mine = new Map(); this.pending.set(txn, mine) }
    const tenant = batch.tenant
    for (let i = 0; i < batch.metadataCount; i++) {
      const m = batch.metadata(i)
      if (m.type === 'unknown' && m.help === '' && m.unit === '') continue // RW 2.0 sends this for series without metadata
      let family = m.family
      if (family === '' && m.seriesId !== 0) family = this.family(batch, m.seriesId)
      if (family === '') continue
      const key = `${tenant}\u0000${family}`
      const now = this.latest(key)
      if (now !== undefined && now.type === m.type && now.help === m.help && now.unit === m.unit && nowMs - now.lastSeenMs < METADATA_REFRESH_MS) continue
      mine.set(key, { tenant, family, type: m.type, help: m.help, unit: m.unit, lastSeenMs: nowMs })
    }
  }

  /** The newest entry for a key: pending in the latest transaction that has it, else stored. */
  private latest (key: string): Entry | undefined {
    let found: Entry | undefined
    for (const m of this.pending.values()) found = m.get(key) ?? found // transactions in order
    return found ?? this.known.get(key)
  }

  /** Writes what transaction `txn` collected (after it committed; one statement, autocommit). */
  async write (connection: DuckDBConnection, nowMs: number, txn: number): Promise<void> {
    const mine = this.pending.get(txn)
    this.pending.delete(txn)
    if (mine === undefined || mine.size === 0) return
    const rows = [...mine.values()]
    const list = (pick: (e: typeof rows[number]) => string) => listValue(rows.map(pick))
    await connection.run(UPSERT, [list(e => e.tenant), list(e => e.family), list(e => e.type), list(e => e.help), list(e => e.unit), BigInt(Math.trunc(nowMs))],
      [LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), LIST(VARCHAR), BIGINT])
    for (const [key, e] of mine) this.known.set(key, { type: e.type, help: e.help, unit: e.unit, lastSeenMs: e.lastSeenMs })
  }

  /** Transaction `txn` rolled back: what it collected is dropped (seen again, it is collected again). */
  rollback (txn: number): void {
    this.pending.delete(txn)
  }

  /** Forgets what is stored (after retention deleted metadata rows). */
  forget (): void {
    this.known.clear()
  }

  private family (batch: RowBatch, seriesId: number): string {
    let name = this.familyOf.get(seriesId)
    if (name === undefined) {
      const labels = batch.labelsOf(seriesId)
      name = labels === undefined ? '' : metricNameOf(labels)
      if (this.familyOf.size >= 1_000_000) this.familyOf.clear() // bounded: re-decoding is only slower
      this.familyOf.set(seriesId, name)
    }
    return name
  }
}
