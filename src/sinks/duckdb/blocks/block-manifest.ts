/**
 * The manifest: the table `blocks`, one row per block file that reads may see. A block is listed in
 * the same transaction that deletes its rows from the head and rebuilds the views over it
 * (compaction.ts), and unlisted in the same transaction that rebuilds the views without it
 * (block-retention.ts), so the manifest, the views and the head always agree: a crash can leave a
 * file the manifest does not list (removed at start), never a listed block whose rows are also in
 * the head.
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { BLOCK_KINDS, type BlockKind } from './block-files.js'

export const MANIFEST_TABLE = `CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  kind VARCHAR NOT NULL,
  file VARCHAR NOT NULL,
  window_start TIMESTAMP NOT NULL,
  range_start TIMESTAMP NOT NULL,
  range_end TIMESTAMP NOT NULL,
  rows BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  created TIMESTAMP NOT NULL
)`

/** One listed block: rows of `kind` with range_start <= ts < range_end, in `<data-dir>/blocks/<file>`. */
export interface BlockEntry {
  readonly id: number
  readonly kind: BlockKind
  readonly file: string
  readonly windowStartMs: number
  readonly rangeStartMs: number
  readonly rangeEndMs: number
  readonly rows: number
  readonly bytes: number
}

/** Whether the database has a manifest (a file written before blocks existed has none until the writer opens it). */
export async function hasManifest (connection: DuckDBConnection): Promise<boolean> {
  const r = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'blocks' AND schema_name = 'main' AND NOT temporary")
  return Number(r.getRows()[0]?.[0] ?? 0) > 0
}

/** The listed blocks, oldest first (as the connection's transaction sees them). */
export async function listBlocks (connection: DuckDBConnection): Promise<BlockEntry[]> {
  if (!await hasManifest(connection)) return []
  const r = await connection.runAndReadAll(`SELECT id, kind, file, epoch_ms(window_start), epoch_ms(range_start), epoch_ms(range_end), rows, bytes
    FROM main.blocks ORDER BY range_start, id`)
  return r.getRows().map(row => ({
    id: Number(row[0]),
    kind: checkKind(String(row[1])),
    file: String(row[2]),
    windowStartMs: Number(row[3]),
    rangeStartMs: Number(row[4]),
    rangeEndMs: Number(row[5]),
    rows: Number(row[6]),
    bytes: Number(row[7])
  }))
}

function checkKind (kind: string): BlockKind {
  if (!(BLOCK_KINDS as readonly string[]).includes(kind)) throw new Error(`the blocks table lists an unknown kind ${JSON.stringify(kind)}`)
  return kind as BlockKind
}

/** The id the next block gets. */
export async function nextBlockId (connection: DuckDBConnection): Promise<number> {
  const r = await connection.runAndReadAll('SELECT coalesce(max(id), 0) + 1 FROM main.blocks')
  return Number(r.getRows()[0]?.[0] ?? 1)
}

export async function insertBlock (connection: DuckDBConnection, b: BlockEntry): Promise<void> {
  await connection.run(`INSERT INTO main.blocks VALUES ($1, $2, $3, make_timestamp($4::BIGINT * 1000), make_timestamp($5::BIGINT * 1000),
    make_timestamp($6::BIGINT * 1000), $7, $8, now()::TIMESTAMP)`,
  [b.id, b.kind, b.file, BigInt(b.windowStartMs), BigInt(b.rangeStartMs), BigInt(b.rangeEndMs), BigInt(b.rows), BigInt(b.bytes)])
}
