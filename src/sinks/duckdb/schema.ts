/**
 * The tables, types and views of the embedded store, and the statement that creates them.
 *
 * Choices that shape every query:
 * - Timestamps are TIMESTAMP (microseconds, no time zone, UTC by convention): `ts > now() - INTERVAL 1 HOUR`
 *   and `time_bucket(INTERVAL 1 MINUTE, ts)` work as they stand, and Parquet exports carry a real timestamp.
 *   Remote-write milliseconds are multiplied by 1000 on the way in (exact below 2^53 µs, year 2255).
 * - Series ids are UINTEGER: the process' series index hands out 32-bit ids, and the sample rows copy
 *   the batch's Uint32Array as bytes.
 * - Values are DOUBLE, written as the request's bytes: a Prometheus stale marker (NaN with payload
 *   0x7ff0000000000002) keeps its payload; `isnan(value)` finds stale and other NaN samples.
 * - Small closed sets are ENUMs, so a data chunk takes the batch's uint8 codes as they are.
 * - No foreign keys and no indexes on the fact tables: appends stay bulk copies; DuckDB's zone maps
 *   on `ts` serve time filters. `series.id` is the one primary key (series rows are few).
 * - Resent requests (a sender retries when it got no answer, though the rows were committed) append
 *   their rows again. Samples and histograms are stored as appended (`sample_rows`,
 *   `histogram_rows`), and read through the views `samples` and `histograms`, which show each
 *   (series, timestamp) once: the row stored first (lowest rowid), whatever a later resend carried
 *   (docs/store-dedup.md). Compaction drops the extra rows for good.
 * - Closed time windows move to Parquet blocks (blocks/); the views read head and blocks together.
 */
import { METRIC_TYPES } from '../../batch/layout.js'
import { MANIFEST_TABLE } from './blocks/block-manifest.js'
import { viewStatements } from './blocks/block-views.js'
import { STORE_LOG_ROW, STORE_LOG_TABLE } from './store-log-mark.js'

/**
 * Bump when a table changes; `createSchema` refuses a file written with a newer version, and
 * `migrationStatements` brings an older one up to date. 2: `samples` and `histograms` became
 * views that show each (series, timestamp) once over the tables `sample_rows` and `histogram_rows`.
 * 3: blocks (docs/store.md): the table `blocks` (the manifest of Parquet blocks), `exemplars`
 * became a view over the table `exemplar_rows` and the blocks, like `samples` and `histograms`.
 * 4: the table `store_log`, DuckDB's mark in the store log (store-log-mark.ts).
 */
export const SCHEMA_VERSION = 4

/** The table that holds the rows of `TABLES[name]` as appended (the name users read may be a view over it). */
export const STORED_AS: Readonly<Record<TableName, string>> = {
  series: 'series',
  samples: 'sample_rows',
  exemplars: 'exemplar_rows',
  histograms: 'histogram_rows',
  metadata: 'metadata'
}

/** Names of the reset hints, index = the batch's histogramResetHints code. */
export const RESET_HINTS = ['unknown', 'yes', 'no', 'gauge'] as const
/** Names of the histogram kinds, index = the batch's histogramKinds code (HISTOGRAM_INT, HISTOGRAM_FLOAT). */
export const HISTOGRAM_KINDS = ['int', 'float'] as const

function enumOf (values: readonly string[]): string {
  return `ENUM (${values.map(v => `'${v}'`).join(', ')})`
}

const SPAN = 'STRUCT("offset" INTEGER, length UINTEGER)'

/** Column lists in appender order: the batch appender fills data chunks in exactly this order. */
export const TABLES = {
  series: [
    ['id', 'UINTEGER PRIMARY KEY'],
    ['metric', 'VARCHAR NOT NULL'], //                  the __name__ label, '' when none
    ['labels', 'MAP(VARCHAR, VARCHAR) NOT NULL'], //    every label, __name__ included, sorted by name
    ['tenant', 'VARCHAR NOT NULL'], //                  '' when the request had no tenant header
    ['first_seen', 'TIMESTAMP NOT NULL'], //            when the row was stored (wall clock of the writer)
    ['label_key', 'BLOB NOT NULL'] //                   canonical label bytes (src/series/labels.ts): what the series index hashes
  ],
  samples: [
    ['series_id', 'UINTEGER NOT NULL'],
    ['ts', 'TIMESTAMP NOT NULL'],
    ['value', 'DOUBLE NOT NULL'],
    ['start_ts', 'TIMESTAMP'] //                        RW 2.0 start (created) timestamp; NULL when not sent
  ],
  exemplars: [
    ['series_id', 'UINTEGER NOT NULL'],
    ['ts', 'TIMESTAMP NOT NULL'],
    ['value', 'DOUBLE NOT NULL'],
    ['labels', 'MAP(VARCHAR, VARCHAR) NOT NULL'] //     the exemplar's own labels (trace_id, ...)
  ],
  histograms: [
    ['series_id', 'UINTEGER NOT NULL'],
    ['ts', 'TIMESTAMP NOT NULL'],
    ['start_ts', 'TIMESTAMP'],
    ['kind', 'histogram_kind NOT NULL'], //             'int' (count_int, bucket deltas on the wire) or 'float'
    ['count', 'DOUBLE NOT NULL'],
    ['sum', 'DOUBLE NOT NULL'], //                      bits kept: a stale histogram carries the stale NaN here
    ['schema', 'INTEGER NOT NULL'], //                  -4..8 exponential, -53 custom buckets (NHCB)
    ['zero_threshold', 'DOUBLE NOT NULL'],
    ['zero_count', 'DOUBLE NOT NULL'],
    ['reset_hint', 'reset_hint NOT NULL'],
    ['negative_spans', `${SPAN}[] NOT NULL`],
    ['negative_counts', 'DOUBLE[] NOT NULL'], //        absolute bucket counts (int deltas accumulated)
    ['positive_spans', `${SPAN}[] NOT NULL`],
    ['positive_counts', 'DOUBLE[] NOT NULL'],
    ['custom_values', 'DOUBLE[] NOT NULL'] //           upper bounds of custom buckets (schema -53), else []
  ],
  metadata: [
    ['tenant', 'VARCHAR NOT NULL'],
    ['family', 'VARCHAR NOT NULL'], //                  metric family name (RW 2.0: the metric name of the series that carried it)
    ['type', 'metric_type NOT NULL'],
    ['help', 'VARCHAR NOT NULL'],
    ['unit', 'VARCHAR NOT NULL'],
    ['last_seen', 'TIMESTAMP NOT NULL']
  ]
} as const

export type TableName = keyof typeof TABLES

function quoted (col: string): string {
  return col === 'count' || col === 'sum' || col === 'schema' ? `"${col}"` : col
}

function createTable (name: TableName, extra = ''): string {
  const cols = TABLES[name].map(([col, type]) => `  ${quoted(col)} ${type}`)
  return `CREATE TABLE ${STORED_AS[name]} (\n${cols.join(',\n')}${extra})`
}

/** The views over the tables, with no blocks yet (created after them, and again by a migration; blocks/block-views.ts). */
function headViews (): string[] {
  return viewStatements('', [])
}

/** Statements that bring a database of schema `from` to SCHEMA_VERSION (run inside one transaction). */
export function migrationStatements (from: number): string[] {
  const out: string[] = []
  if (from < 2) {
    out.push('DROP VIEW samples_with_labels', 'DROP VIEW histograms_with_labels', 'DROP VIEW exemplars_with_labels',
      'ALTER TABLE samples RENAME TO sample_rows', 'ALTER TABLE histograms RENAME TO histogram_rows')
  }
  if (from < 3) {
    if (from >= 2) out.push('DROP VIEW exemplars_with_labels')
    out.push('ALTER TABLE exemplars RENAME TO exemplar_rows', MANIFEST_TABLE)
  }
  if (from < 4) out.push(STORE_LOG_TABLE, STORE_LOG_ROW)
  out.push(...headViews())
  out.push(`INSERT INTO prom_ingest_schema VALUES (${SCHEMA_VERSION})`)
  return out
}

/** Every statement that creates the schema, in order (run once, inside one transaction). */
export function schemaStatements (): string[] {
  return [
    `CREATE TYPE metric_type AS ${enumOf(METRIC_TYPES)}`,
    `CREATE TYPE histogram_kind AS ${enumOf(HISTOGRAM_KINDS)}`,
    `CREATE TYPE reset_hint AS ${enumOf(RESET_HINTS)}`,
    createTable('series'),
    createTable('samples'),
    createTable('exemplars'),
    createTable('histograms'),
    createTable('metadata', ',\n  PRIMARY KEY (tenant, family)'),
    MANIFEST_TABLE,
    STORE_LOG_TABLE,
    STORE_LOG_ROW,
    ...headViews(),
    'CREATE TABLE prom_ingest_schema (version INTEGER NOT NULL)',
    `INSERT INTO prom_ingest_schema VALUES (${SCHEMA_VERSION})`
  ]
}

/** The column names of a table, as TABLES lists them. */
export type ColumnOf<T extends TableName> = (typeof TABLES)[T][number][0]

/**
 * The position of each column of a table in appender order, by name: `columnsOf('samples').ts` is 1.
 * Whoever fills a data chunk finds its vectors through this, never by a number of its own.
 */
export function columnsOf<T extends TableName> (table: T): { readonly [C in ColumnOf<T>]: number } {
  const out: Record<string, number> = {}
  TABLES[table].forEach(([name], i) => { out[name] = i })
  return out as { readonly [C in ColumnOf<T>]: number }
}
