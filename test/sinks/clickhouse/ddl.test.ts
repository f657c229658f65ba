import { describe, expect, it } from 'vitest'
import { ddlFor, parseVersion } from '../../../src/sinks/clickhouse/ddl.js'

const names = { database: 'metrics', prefix: 'prom_' }

describe('ClickHouse DDL by version', () => {
  it('reads version() answers', () => {
    expect(parseVersion('18.16.1\n')).toEqual([18, 16])
    expect(parseVersion('23.8.2.7')).toEqual([23, 8])
    expect(() => parseVersion('nonsense')).toThrow(/not a ClickHouse version/)
  })

  it('18.16: arrays, Int64 milliseconds, no Map, DateTime64, codecs, TTL or LowCardinality', () => {
    const ddl = ddlFor('18.16.1', names, 86_400_000)
    expect(ddl.kind).toBe('legacy')
    expect(ddl.labelColumns).toBe('arrays')
    const text = ddl.statements.join('\n')
    for (const absent of ['Map(', 'DateTime64', 'CODEC', 'TTL', 'LowCardinality']) expect(text).not.toContain(absent)
    expect(text).toContain('label_names Array(String)')
    expect(text).toContain('ENGINE = ReplacingMergeTree')
    expect(text).toContain('ORDER BY (fingerprint, timestamp_ms)')
    expect(ddl.samplesTable).toBe('`metrics`.`prom_samples`')
  })

  it('22.x and newer: Map, DateTime64(3), LowCardinality, codecs and a TTL from retention, every table as text', () => {
    const ddl = ddlFor('23.8.2.7', names, 15 * 86_400_000)
    expect(ddl.kind).toBe('modern')
    expect(ddl.labelColumns).toBe('map')
    expect(ddl.statements).toEqual([
      'CREATE DATABASE IF NOT EXISTS `metrics`',
      `CREATE TABLE IF NOT EXISTS \`metrics\`.\`prom_series\` (
  fingerprint UInt64,
  metric_name LowCardinality(String),
  labels Map(String, String),
  tenant LowCardinality(String),
  day Date
) ENGINE = ReplacingMergeTree
PARTITION BY day
ORDER BY (tenant, metric_name, fingerprint, day)
TTL day + INTERVAL 16 DAY`,
      `CREATE TABLE IF NOT EXISTS \`metrics\`.\`prom_samples\` (
  fingerprint UInt64,
  timestamp DateTime64(3) CODEC(DoubleDelta, ZSTD),
  value Float64 CODEC(Gorilla, ZSTD)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (fingerprint, timestamp)
TTL toDateTime(timestamp) + INTERVAL 1296000 SECOND`,
      `CREATE TABLE IF NOT EXISTS \`metrics\`.\`prom_histograms\` (
  fingerprint UInt64,
  timestamp DateTime64(3) CODEC(DoubleDelta, ZSTD),
  start_timestamp DateTime64(3),
  kind Enum8('int' = 0, 'float' = 1),
  count Float64,
  sum Float64,
  schema Int32,
  zero_threshold Float64,
  zero_count Float64,
  reset_hint Enum8('unknown' = 0, 'yes' = 1, 'no' = 2, 'gauge' = 3),
  negative_span_offsets Array(Int32),
  negative_span_lengths Array(UInt32),
  negative_buckets Array(Float64),
  positive_span_offsets Array(Int32),
  positive_span_lengths Array(UInt32),
  positive_buckets Array(Float64),
  custom_values Array(Float64)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (fingerprint, timestamp)
TTL toDateTime(timestamp) + INTERVAL 1296000 SECOND`,
      `CREATE TABLE IF NOT EXISTS \`metrics\`.\`prom_exemplars\` (
  fingerprint UInt64,
  timestamp DateTime64(3) CODEC(DoubleDelta, ZSTD),
  value Float64,
  labels Map(String, String)
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (fingerprint, timestamp)
TTL toDateTime(timestamp) + INTERVAL 1296000 SECOND`,
      `CREATE TABLE IF NOT EXISTS \`metrics\`.\`prom_metadata\` (
  tenant LowCardinality(String),
  metric_family LowCardinality(String),
  type Enum8('unknown' = 0, 'counter' = 1, 'gauge' = 2, 'histogram' = 3, 'gaugehistogram' = 4, 'summary' = 5, 'info' = 6, 'stateset' = 7),
  help String,
  unit String,
  last_seen DateTime
) ENGINE = ReplacingMergeTree(last_seen)
ORDER BY (tenant, metric_family)`
    ])
    expect(ddlFor('22.1.1', names).statements.join('\n')).not.toContain('TTL')
  })

  it('18.16: histograms, exemplars and metadata tables', () => {
    const ddl = ddlFor('18.16.1', names)
    expect(Object.values(ddl.tables)).toEqual(['series', 'samples', 'histograms', 'exemplars', 'metadata'].map(t => `\`metrics\`.\`prom_${t}\``))
    const text = ddl.statements.join('\n')
    expect(text).toContain('negative_span_offsets Array(Int32)')
    expect(text).toContain("kind Enum8('int' = 0, 'float' = 1)")
    expect(text).toContain('ENGINE = ReplacingMergeTree(last_seen)\nORDER BY (tenant, metric_family)')
    expect(ddl.perServerStatements).toEqual([])
  })

  it('a cluster: local tables and Distributed tables over them sharded by fingerprint, ON CLUSTER or per server', () => {
    const ddl = ddlFor('18.16.1', names, 0, 'two_shards')
    expect(ddl.cluster).toBe('two_shards')
    expect(ddl.tables.samples).toBe('`metrics`.`prom_samples`')
    expect(ddl.storedNames.samples).toBe('prom_samples_local')
    expect(ddl.statements[0]).toBe('CREATE DATABASE IF NOT EXISTS `metrics` ON CLUSTER `two_shards`')
    expect(ddl.statements).toContain('CREATE TABLE IF NOT EXISTS `metrics`.`prom_samples` ON CLUSTER `two_shards` AS `metrics`.`prom_samples_local` ENGINE = Distributed(`two_shards`, `metrics`, `prom_samples_local`, fingerprint)')
    expect(ddl.statements).toContain('CREATE TABLE IF NOT EXISTS `metrics`.`prom_metadata` ON CLUSTER `two_shards` AS `metrics`.`prom_metadata_local` ENGINE = Distributed(`two_shards`, `metrics`, `prom_metadata_local`, cityHash64(tenant, metric_family))')
    expect(ddl.statements.filter(s => s.includes('_local` ON CLUSTER `two_shards` (')).length).toBe(5)
    // Without ZooKeeper: the same on each server, without ON CLUSTER.
    expect(ddl.perServerStatements.length).toBe(ddl.statements.length)
    expect(ddl.perServerStatements.join('\n')).not.toContain('ON CLUSTER')
    expect(ddl.perServerStatements).toContain('CREATE TABLE IF NOT EXISTS `metrics`.`prom_series` AS `metrics`.`prom_series_local` ENGINE = Distributed(`two_shards`, `metrics`, `prom_series_local`, fingerprint)')
  })
})
