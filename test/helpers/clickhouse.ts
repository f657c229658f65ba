/** The real ClickHouse server of the ClickHouse sink's tests (shared with bench/clickhouse.ts). */
export { CLICKHOUSE_SERVER, clickhouseAvailable, startClickHouse, type ClickHouse, type ClickHouseOptions } from '../../bench/lib/clickhouse-server.js'
