/** The ClickHouse sink, loaded only when `--sink` lists clickhouse. */
export { ClickHouseSink, createClickHouseSink, type ClickHouseSinkOptions } from './clickhouse-sink.js'
export { fingerprintBigInt, fingerprintOf, tenantPrefix } from './fingerprint.js'
export { ddlFor } from './ddl.js'
