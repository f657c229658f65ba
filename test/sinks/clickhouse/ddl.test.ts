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

  it('22.x and newer: Map, DateTime64(3), LowCardinality, codecs and a TTL from retention, as text', () => {
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
TTL toDateTime(timestamp) + INTERVAL 1296000 SECOND`
    ])
    expect(ddlFor('22.1.1', names).statements.join('\n')).not.toContain('TTL')
  })
})
