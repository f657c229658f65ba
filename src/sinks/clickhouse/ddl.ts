/**
 * The ClickHouse tables, as DDL chosen by the server's `SELECT version()` (docs/clickhouse.md shows both).
 *
 * 18.16 (Debian's, what runs here) up to 21.x: no Map, no DateTime64, no codecs, no TTL; labels as two
 * parallel Array(String) columns, timestamps as Int64 milliseconds.
 * 22.x and newer: labels as Map(String, String), DateTime64(3) timestamps, LowCardinality strings,
 * codecs (DoubleDelta for timestamps, Gorilla for values, both then ZSTD) and a TTL from retention.
 *
 * Both: series is a ReplacingMergeTree with one row per series per day (every process writes the row
 * of a series on the first day it sees it, duplicates merge away); samples, histograms and exemplars
 * are MergeTrees partitioned by day and ordered by (fingerprint, timestamp); metadata a
 * ReplacingMergeTree keyed by (tenant, metric_family) keeping the entry seen last. The row layout
 * (row-binary.ts) is the same bytes in both but for the labels.
 *
 * A cluster (`--clickhouse-cluster NAME`): each table is `<prefix><table>_local` on every server and
 * a Distributed table `<prefix><table>` over them, sharded by fingerprint (metadata by a hash of
 * tenant and family); rows are inserted into the Distributed tables. `statements` creates them
 * ON CLUSTER (distributed DDL, which needs ZooKeeper); `perServerStatements` creates the same tables on
 * one server, for clusters without ZooKeeper (run on every URL). cluster-tables.ts picks which.
 */
import type { LabelColumns } from './row-binary.js'

export interface TableNames {
  readonly database: string
  /** Prefix of the table names (identifier characters only, checked by load-config). */
  readonly prefix: string
}

/** The tables, in the order a flush inserts into them: series rows before the rows that refer to them. */
export const TABLE_KINDS = ['series', 'samples', 'histograms', 'exemplars', 'metadata'] as const
export type TableKind = (typeof TABLE_KINDS)[number]

/** Tables partitioned by day (retention drops their partitions on 18.16). */
export const DAY_PARTITIONED: readonly TableKind[] = ['series', 'samples', 'histograms', 'exemplars']

export interface Ddl {
  /** Which DDL: 'legacy' (before 22.1) or 'modern' (22.1 and newer). */
  readonly kind: 'legacy' | 'modern'
  readonly labelColumns: LabelColumns
  /** Creates the database and tables (with a cluster: ON CLUSTER, run on one server). */
  readonly statements: readonly string[]
  /** With a cluster: the database, local and Distributed tables created on one server, without ON CLUSTER. */
  readonly perServerStatements: readonly string[]
  /** Where rows are inserted, by table (quoted database.table; with a cluster the Distributed tables). */
  readonly tables: Readonly<Record<TableKind, string>>
  /** Unquoted names of the tables that hold the rows on a server (the local tables with a cluster). */
  readonly storedNames: Readonly<Record<TableKind, string>>
  readonly cluster: string | undefined
  readonly seriesTable: string
  readonly samplesTable: string
}

/** [major, minor] of a version() answer such as '18.16.1' or '23.8.2.7'. */
export function parseVersion (version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version.trim())
  if (m === null) throw new Error(`not a ClickHouse version: ${JSON.stringify(version)}`)
  return [Number(m[1]), Number(m[2])]
}

const METRIC_TYPE_ENUM = "Enum8('unknown' = 0, 'counter' = 1, 'gauge' = 2, 'histogram' = 3, 'gaugehistogram' = 4, 'summary' = 5, 'info' = 6, 'stateset' = 7)"
const KIND_ENUM = "Enum8('int' = 0, 'float' = 1)"
const RESET_HINT_ENUM = "Enum8('unknown' = 0, 'yes' = 1, 'no' = 2, 'gauge' = 3)"

/** Column lists and engine clauses of each table, for one DDL kind. */
function tableBodies (modern: boolean, retentionMs: number): Record<TableKind, string> {
  const ttlSeconds = Math.ceil(retentionMs / 1000)
  const ttl = (expr: string): string => modern && ttlSeconds > 0 ? `\nTTL ${expr} + INTERVAL ${ttlSeconds} SECOND` : ''
  const dayTtl = modern && ttlSeconds > 0 ? `\nTTL day + INTERVAL ${Math.ceil(ttlSeconds / 86400) + 1} DAY` : ''
  const str = modern ? 'LowCardinality(String)' : 'String'
  const ts = modern ? 'timestamp DateTime64(3) CODEC(DoubleDelta, ZSTD)' : 'timestamp_ms Int64'
  const tsCol = modern ? 'timestamp' : 'timestamp_ms'
  const partition = modern ? 'toDate(timestamp)' : 'toDate(toDateTime(intDiv(timestamp_ms, 1000)))'
  const ttlOf = modern ? 'toDateTime(timestamp)' : ''
  const labels = modern ? '  labels Map(String, String)' : '  label_names Array(String),\n  label_values Array(String)'
  const byDay = `ENGINE = MergeTree\nPARTITION BY ${partition}\nORDER BY (fingerprint, ${tsCol})`
  return {
    series: `(
  fingerprint UInt64,
  metric_name ${str},
${labels},
  tenant ${str},
  day Date
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (tenant, metric_name, fingerprint, day)${dayTtl}`,
    samples: `(
  fingerprint UInt64,
  ${ts},
  value Float64${modern ? ' CODEC(Gorilla, ZSTD)' : ''}
) ${byDay}${ttl(ttlOf)}`,
    histograms: `(
  fingerprint UInt64,
  ${ts},
  ${modern ? 'start_timestamp DateTime64(3)' : 'start_timestamp_ms Int64'},
  kind ${KIND_ENUM},
  count Float64,
  sum Float64,
  schema Int32,
  zero_threshold Float64,
  zero_count Float64,
  reset_hint ${RESET_HINT_ENUM},
  negative_span_offsets Array(Int32),
  negative_span_lengths Array(UInt32),
  negative_buckets Array(Float64),
  positive_span_offsets Array(Int32),
  positive_span_lengths Array(UInt32),
  positive_buckets Array(Float64),
  custom_values Array(Float64)
) ${byDay}${ttl(ttlOf)}`,
    exemplars: `(
  fingerprint UInt64,
  ${ts},
  value Float64,
${labels}
) ${byDay}${ttl(ttlOf)}`,
    metadata: `(
  tenant ${str},
  metric_family ${str},
  type ${METRIC_TYPE_ENUM},
  help String,
  unit String,
  last_seen DateTime
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY (tenant, metric_family)`
  }
}

/** How a Distributed table spreads rows over shards: by series fingerprint; metadata by tenant and family. */
const SHARDING_KEY: Record<TableKind, string> = {
  series: 'fingerprint',
  samples: 'fingerprint',
  histograms: 'fingerprint',
  exemplars: 'fingerprint',
  metadata: 'cityHash64(tenant, metric_family)'
}

/**
 * The DDL for a server of `version`; retentionMs 0 keeps samples forever (22.x: TTL; 18.16: nothing,
 * see retention.ts); `cluster` names a cluster of the servers' remote_servers.
 */
export function ddlFor (version: string, names: TableNames, retentionMs = 0, cluster?: string): Ddl {
  const [major] = parseVersion(version)
  const modern = major >= 22
  const db = quoteIdent(names.database)
  const bodies = tableBodies(modern, retentionMs)
  const tables = {} as Record<TableKind, string>
  const storedNames = {} as Record<TableKind, string>
  const statements: string[] = []
  const perServerStatements: string[] = []
  if (cluster === undefined) {
    statements.push(`CREATE DATABASE IF NOT EXISTS ${db}`)
    for (const kind of TABLE_KINDS) {
      storedNames[kind] = names.prefix + kind
      tables[kind] = `${db}.${quoteIdent(storedNames[kind])}`
      statements.push(`CREATE TABLE IF NOT EXISTS ${tables[kind]} ${bodies[kind]}`)
    }
  } else {
    const on = ` ON CLUSTER ${quoteIdent(cluster)}`
    statements.push(`CREATE DATABASE IF NOT EXISTS ${db}${on}`)
    perServerStatements.push(`CREATE DATABASE IF NOT EXISTS ${db}`)
    for (const kind of TABLE_KINDS) {
      storedNames[kind] = names.prefix + kind + '_local'
      const local = `${db}.${quoteIdent(storedNames[kind])}`
      tables[kind] = `${db}.${quoteIdent(names.prefix + kind)}`
      const distributed = `AS ${local} ENGINE = Distributed(${quoteIdent(cluster)}, ${db}, ${quoteIdent(storedNames[kind])}, ${SHARDING_KEY[kind]})`
      statements.push(`CREATE TABLE IF NOT EXISTS ${local}${on} ${bodies[kind]}`, `CREATE TABLE IF NOT EXISTS ${tables[kind]}${on} ${distributed}`)
      perServerStatements.push(`CREATE TABLE IF NOT EXISTS ${local} ${bodies[kind]}`, `CREATE TABLE IF NOT EXISTS ${tables[kind]} ${distributed}`)
    }
  }
  return {
    kind: modern ? 'modern' : 'legacy',
    labelColumns: modern ? 'map' : 'arrays',
    statements,
    perServerStatements,
    tables,
    storedNames,
    cluster,
    seriesTable: tables.series,
    samplesTable: tables.samples
  }
}

/** An identifier in backquotes (names are checked to be plain by load-config; this keeps SQL well-formed anyway). */
export function quoteIdent (name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`'
}
