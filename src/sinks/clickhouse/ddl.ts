/**
 * The ClickHouse tables, as DDL chosen by the server's `SELECT version()` (docs/clickhouse.md shows both).
 *
 * 18.16 (Debian's, what runs here) up to 21.x: no Map, no DateTime64, no codecs, no TTL; labels as two
 * parallel Array(String) columns, timestamps as Int64 milliseconds.
 * 22.x and newer: labels as Map(String, String), DateTime64(3) timestamps, LowCardinality strings,
 * codecs (DoubleDelta for timestamps, Gorilla for values, both then ZSTD) and a TTL from retention.
 *
 * Both: series is a ReplacingMergeTree with one row per series per day (every process writes the row
 * of a series on the first day it sees it, duplicates merge away); samples a MergeTree partitioned
 * by day and ordered by (fingerprint, timestamp). The row layout (row-binary.ts) is the same bytes in
 * both but for the labels.
 */
import type { LabelColumns } from './row-binary.js'

export interface TableNames {
  readonly database: string
  /** Prefix of the table names (identifier characters only, checked by load-config). */
  readonly prefix: string
}

export interface Ddl {
  /** Which DDL: 'legacy' (before 22.1) or 'modern' (22.1 and newer). */
  readonly kind: 'legacy' | 'modern'
  readonly labelColumns: LabelColumns
  readonly statements: readonly string[]
  readonly seriesTable: string
  readonly samplesTable: string
}

/** [major, minor] of a version() answer such as '18.16.1' or '23.8.2.7'. */
export function parseVersion (version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version.trim())
  if (m === null) throw new Error(`not a ClickHouse version: ${JSON.stringify(version)}`)
  return [Number(m[1]), Number(m[2])]
}

/** The DDL for a server of `version`; retentionMs 0 keeps samples forever (22.x: TTL; 18.16: nothing, see docs). */
export function ddlFor (version: string, names: TableNames, retentionMs = 0): Ddl {
  const [major] = parseVersion(version)
  const db = quoteIdent(names.database)
  const seriesTable = `${db}.${quoteIdent(names.prefix + 'series')}`
  const samplesTable = `${db}.${quoteIdent(names.prefix + 'samples')}`
  const database = `CREATE DATABASE IF NOT EXISTS ${db}`
  if (major < 22) {
    return {
      kind: 'legacy',
      labelColumns: 'arrays',
      seriesTable,
      samplesTable,
      statements: [
        database,
        `CREATE TABLE IF NOT EXISTS ${seriesTable} (
  fingerprint UInt64,
  metric_name String,
  label_names Array(String),
  label_values Array(String),
  tenant String,
  day Date
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (tenant, metric_name, fingerprint, day)`,
        `CREATE TABLE IF NOT EXISTS ${samplesTable} (
  fingerprint UInt64,
  timestamp_ms Int64,
  value Float64
) ENGINE = MergeTree
PARTITION BY toDate(toDateTime(intDiv(timestamp_ms, 1000)))
ORDER BY (fingerprint, timestamp_ms)`
      ]
    }
  }
  const ttlSeconds = Math.ceil(retentionMs / 1000)
  return {
    kind: 'modern',
    labelColumns: 'map',
    seriesTable,
    samplesTable,
    statements: [
      database,
      `CREATE TABLE IF NOT EXISTS ${seriesTable} (
  fingerprint UInt64,
  metric_name LowCardinality(String),
  labels Map(String, String),
  tenant LowCardinality(String),
  day Date
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (tenant, metric_name, fingerprint, day)` + (ttlSeconds > 0 ? `\nTTL day + INTERVAL ${Math.ceil(ttlSeconds / 86400) + 1} DAY` : ''),
      `CREATE TABLE IF NOT EXISTS ${samplesTable} (
  fingerprint UInt64,
  timestamp DateTime64(3) CODEC(DoubleDelta, ZSTD),
  value Float64 CODEC(Gorilla, ZSTD)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (fingerprint, timestamp)` + (ttlSeconds > 0 ? `\nTTL toDateTime(timestamp) + INTERVAL ${ttlSeconds} SECOND` : '')
    ]
  }
}

/** An identifier in backquotes (names are checked to be plain by load-config; this keeps SQL well-formed anyway). */
export function quoteIdent (name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`'
}
