/**
 * The views that read the head (the tables rows are appended to) and the blocks (Parquet files)
 * together, so that `samples`, `histograms`, `exemplars` and the `*_with_labels` views show every
 * row once wherever it lives.
 *
 * For samples and histograms (each (series_id, ts) shown once, docs/store-dedup.md):
 *
 * ```sql
 * SELECT ... FROM read_parquet([blocks])                      -- unique: compaction wrote each once
 * UNION ALL SELECT * FROM (head, grouped) WHERE ts >= B       -- B: end of the latest block
 * UNION ALL SELECT h.* FROM (head, grouped) h                 -- late head rows: those already in a
 *   ANTI JOIN read_parquet([blocks]) b ON (series_id, ts)     --   block are not shown again
 *   WHERE h.ts < B
 * ```
 *
 * A block holds each (series_id, ts) once (compaction groups the head and leaves out what earlier
 * blocks of the range hold), and a block row was stored before any head row of the same key, so it
 * is the one shown. The anti join costs little: it reads only head rows older than B, which are
 * few (late samples), and DuckDB builds its hash table on that side.
 *
 * The file list is part of the view text, so the views are rebuilt whenever the manifest changes,
 * in the same transaction. Paths are absolute (DuckDB only reads allowed directories, and those are
 * absolute); a read-only open builds TEMP views over the same names, so a data directory that was
 * moved is read from where it is now.
 */
import { join } from 'node:path'
import { TABLES } from '../schema.js'
import type { BlockKind } from './block-files.js'
import type { BlockEntry } from './block-manifest.js'

type Column = readonly [string, string]

function quoted (col: string): string {
  return col === 'count' || col === 'sum' || col === 'schema' ? `"${col}"` : col
}

function literal (s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/** A TIMESTAMP literal of a time in ms. */
export function timestampLiteral (ms: number): string {
  return `TIMESTAMP ${literal(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''))}`
}

/** `read_parquet([...])` over the files of some blocks. */
export function parquetOf (dir: string, blocks: readonly BlockEntry[]): string {
  return `read_parquet([${blocks.map(b => literal(join(dir, b.file))).join(', ')}])`
}

/** The head of a deduplicated kind: each (series_id, ts) once, the row stored first. */
export function groupedHead (table: 'sample_rows' | 'histogram_rows', columns: readonly Column[], where = ''): string {
  const rest = columns.filter(([c]) => c !== 'series_id' && c !== 'ts').map(([c]) => `arg_min_null(${quoted(c)}, rowid) AS ${quoted(c)}`)
  return `SELECT series_id, ts, ${rest.join(', ')} FROM ${table}${where === '' ? '' : ` WHERE ${where}`} GROUP BY series_id, ts`
}

/** The columns of a kind as read back from a block, with the types of the head (ENUMs were written as text). */
export function blockColumns (kind: BlockKind): string {
  return TABLES[kind].map(([c, type]) => {
    if (type.startsWith('histogram_kind')) return `${c}::histogram_kind AS ${c}`
    if (type.startsWith('reset_hint')) return `${c}::reset_hint AS ${c}`
    return quoted(c)
  }).join(', ')
}

const HEAD_TABLE = { samples: 'sample_rows', histograms: 'histogram_rows', exemplars: 'exemplar_rows' } as const

function kindView (kind: BlockKind, dir: string, blocks: readonly BlockEntry[], create: string): string {
  const mine = blocks.filter(b => b.kind === kind)
  const columns = TABLES[kind].map(([c]) => quoted(c)).join(', ')
  if (kind === 'exemplars') {
    const head = `SELECT ${columns} FROM ${HEAD_TABLE.exemplars}`
    return `${create} exemplars AS\n  ${mine.length === 0 ? head : `SELECT ${blockColumns(kind)} FROM ${parquetOf(dir, mine)}\n  UNION ALL ${head}`}`
  }
  const head = groupedHead(HEAD_TABLE[kind], TABLES[kind])
  if (mine.length === 0) return `${create} ${kind} AS\n  ${head}`
  const files = parquetOf(dir, mine)
  const boundary = timestampLiteral(Math.max(...mine.map(b => b.rangeEndMs)))
  return `${create} ${kind} AS
  SELECT ${blockColumns(kind)} FROM ${files}
  UNION ALL SELECT ${columns} FROM (${head}) WHERE ts >= ${boundary}
  UNION ALL SELECT ${TABLES[kind].map(([c]) => `h.${quoted(c)}`).join(', ')} FROM (${head}) h
    ANTI JOIN ${files} b ON b.series_id = h.series_id AND b.ts = h.ts WHERE h.ts < ${boundary}`
}

/**
 * Every view of the store, over the head and the given blocks (none: the head alone). `temp`:
 * TEMP views of the same names (read-only opens), which hide the stored ones for this connection.
 */
export function viewStatements (dir: string, blocks: readonly BlockEntry[], temp = false): string[] {
  const create = `CREATE OR REPLACE ${temp ? 'TEMP ' : ''}VIEW`
  return [
    kindView('samples', dir, blocks, create),
    kindView('histograms', dir, blocks, create),
    kindView('exemplars', dir, blocks, create),
    // The views most questions start from: every row with its series' name, labels and tenant.
    `${create} samples_with_labels AS
  SELECT s.metric, s.labels, s.tenant, x.series_id, x.ts, x.value, x.start_ts
  FROM samples x JOIN series s ON s.id = x.series_id`,
    `${create} histograms_with_labels AS
  SELECT s.metric, s.labels, s.tenant, h.*
  FROM histograms h JOIN series s ON s.id = h.series_id`,
    `${create} exemplars_with_labels AS
  SELECT s.metric, s.labels AS series_labels, s.tenant, e.series_id, e.ts, e.value, e.labels AS exemplar_labels
  FROM exemplars e JOIN series s ON s.id = e.series_id`
  ]
}
