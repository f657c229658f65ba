/**
 * The embedded DuckDB store: the sink, its query route and CLI helpers.
 */
export { createDuckDbSink, type DuckDbSink, type DuckDbSinkOptions, type SinkLogger } from './duckdb-sink.js'
export { queryParams, queryRoutes, QUERY_PATH, type QuerySink } from './query-handler.js'
export { writeServiceInfo, readServiceInfo, removeServiceInfo, serviceUrl, SERVICE_INFO_FILE, type ServiceInfo } from './service-info.js'
export { loadKnownSeries, type LoadedSeries } from './series-loader.js'
export { databaseFile, openDatabase, DB_FILE } from './open-database.js'
export { runReadOnlyQuery, streamReadOnlyQuery, DEFAULT_QUERY_LIMITS, REFUSED_FUNCTIONS, type QueryLimits, type QuerySummary } from './query-guard.js'
export { QUERY_FORMATS, type QueryFormat, type QueryOutput } from './result-format.js'
export { SCHEMA_VERSION, TABLES } from './schema.js'
