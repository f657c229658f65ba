/**
 * The one schema of every setting of `prom-ingest serve`. Flags, environment variables and the config
 * file are all read through it (load-config.ts), and `--help` is generated from it (help.ts).
 *
 * A setting's key is camelCase here; its flag is the kebab-case form (`slotBytes` -> `--slot-bytes`),
 * its environment variable PROM_INGEST_ and the upper snake form (`PROM_INGEST_SLOT_BYTES`), and its
 * config-file key either form. Other parts of the project (deploy/, the DuckDB sink) rely on these names.
 */
import { availableParallelism } from 'node:os'
import { DEFAULT_LIMITS } from '../decode/options.js'
import { DEFAULT_ARENA_BYTES_PER_SERIES, MAX_ARENA_BYTES, defaultArenaBytes } from '../series/series-index.js'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export const SINK_NAMES = ['duckdb', 'discard', 'forward', 'clickhouse'] as const
export const QUEUE_FULL_POLICIES = ['refuse', 'drop-oldest'] as const
/** When the DuckDB sink acknowledges a write (src/sinks/duckdb/duckdb-sink.ts, docs/store.md "Acknowledged at the log"). */
export const DUCKDB_ACKS = ['commit', 'log'] as const
export const FORWARD_DECODES = ['full', 'validate-only'] as const

export type LogLevel = (typeof LOG_LEVELS)[number]
export type SinkName = (typeof SINK_NAMES)[number]
export type QueueFullPolicy = (typeof QUEUE_FULL_POLICIES)[number]
export type ForwardDecode = (typeof FORWARD_DECODES)[number]

export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** The validated settings. Sizes are bytes, durations milliseconds. */
export interface Config {
  listen: ListenAddress
  threads: number
  slotBytes: number
  slotCount: number
  largeSlotCount: number
  maxInFlight: number
  maxBodyBytes: number
  maxDecompressedBytes: number
  maxLabelsPerSeries: number
  maxLabelNameBytes: number
  maxLabelValueBytes: number
  maxSeriesKeyBytes: number
  legacyLabelNames: boolean
  laxUtf8: boolean
  rejectUnsortedLabels: boolean
  maxSeries: number
  seriesArenaBytes: number
  slotWait: number
  headersTimeout: number
  bodyIdleTimeout: number
  bodyMinRate: number
  saturationStatus: 503 | 429
  retryAfter: number
  authBearerToken: string
  authBearerTokenFile: string
  authBasicUser: string
  authBasicPassword: string
  authBasicPasswordFile: string
  authReadBearerToken: string
  authReadBearerTokenFile: string
  tenantHeader: string
  tenantIngestionRate: number
  tenantIngestionBurst: number
  tenantRateLimitStatus: 429 | 503
  tenantMaxSeries: number
  /** Per-tenant overrides from the config file (validated by src/limits/tenant-limits.ts). */
  tenantLimits: Record<string, unknown>
  haDedup: boolean
  haClusterLabel: string
  haReplicaLabel: string
  haFailoverTimeout: number
  /** Global relabeling rules in Prometheus' form (validated by src/relabel/relabel-settings.ts). */
  relabelConfigs: unknown[]
  relabelCompat: 2 | 3
  relabelCacheBytes: number
  /** Every sink a batch goes to (a request's 204 waits for all of them). */
  sink: SinkName[]
  dataDir: string
  commitInterval: number
  commitMaxRows: number
  retention: number
  blockWindow: number
  compactionInterval: number
  queryTimeout: number
  queryMaxRows: number
  queryMaxAnswerBytes: number
  queryHoldBytes: number
  queryConcurrency: number
  queryQueue: number
  readMaxSamples: number
  readMaxConcurrency: number
  duckdbMemoryLimit: number
  duckdbThreads: number
  duckdbCheckpointThreshold: number
  duckdbAck: (typeof DUCKDB_ACKS)[number]
  workerYoungGeneration: number
  sinkUnreadyAfter: number
  forwardUrl: string[]
  /** Per-destination settings from the config file (validated into ForwardDestination by load-config). */
  forwardDestinations: ForwardDestinationSetting[]
  forwardShard: boolean
  forwardMaxInFlight: number
  forwardTimeout: number
  forwardQueueLimit: number
  forwardQueueFull: QueueFullPolicy
  forwardDecode: ForwardDecode
  forwardRetryMinBackoff: number
  forwardRetryMaxBackoff: number
  clickhouseUrl: string[]
  clickhouseDatabase: string
  clickhouseUser: string
  clickhousePasswordFile: string
  /** Read from clickhousePasswordFile by load-config. */
  clickhousePassword: string
  clickhouseTablePrefix: string
  clickhouseCreateTables: boolean
  clickhouseCluster: string
  clickhouseFlushRows: number
  clickhouseFlushInterval: number
  clickhouseFlushGap: number
  shutdownGrace: number
  logLevel: LogLevel
  config: string
}

/**
 * One destination as the config file's `forward-destinations` array gives it. Unset fields take the
 * forward-* settings; `url` is required. Secrets come from files (bearerTokenFile, basicAuth.passwordFile).
 */
export interface ForwardDestinationSetting {
  url: string
  /** Name in metrics, logs and the queue cursor; default the URL's host:port and path. */
  name?: string
  headers?: Record<string, string>
  bearerTokenFile?: string
  basicAuth?: { username: string, passwordFile: string }
  /** Protocol version sent; default: as received (the body is forwarded as it is). */
  protocol?: '1.0' | '2.0'
  timeout?: string | number
  maxInFlight?: number
  queueLimit?: string | number
}

/** 'list' is comma-separated (a repeated flag adds to it); 'json' is JSON text, or any JSON value in the file. */
export type SettingKind = 'address' | 'int' | 'bool' | 'duration' | 'size' | 'enum' | 'string' | 'path' | 'list' | 'json'

export interface SettingSpec<K extends keyof Config = keyof Config> {
  readonly kind: SettingKind
  /** One line for --help. */
  readonly help: string
  /** The default, or how to compute it from the settings above it in this table. */
  readonly default: Config[K] | ((c: Readonly<Partial<Config>>) => Config[K])
  /** How --help shows a computed default. */
  readonly defaultText?: string
  /** Allowed values (enum settings; ints listed here must be one of them). */
  readonly values?: readonly (string | number)[]
  readonly min?: number
  readonly max?: number
  /** Kept out of logs. */
  readonly secret?: boolean
  /** Only a flag or environment variable can set it (the config file path itself). */
  readonly notInFile?: boolean
}

type Schema = { readonly [K in keyof Config]: SettingSpec<K> }

/** Every setting, in the order --help lists them. A computed default may read only settings above it. */
export const SETTINGS: Schema = {
  config: { kind: 'path', default: '', help: 'JSON or YAML file of settings (keys are setting names; YAML for .yaml/.yml); flags and environment variables override it', notInFile: true },
  listen: { kind: 'address', default: { host: '0.0.0.0', port: 9201 }, defaultText: '0.0.0.0:9201', help: 'address and port to listen on (host:port, [v6]:port or :port; port 0 picks a free one)' },
  // sink comes before threads: the default thread count depends on it.
  sink: { kind: 'list', values: SINK_NAMES, default: ['duckdb'], help: 'where batches go, one or more (comma-separated): duckdb (embedded store under data-dir), forward (remote write to forward-url, through a durable queue under data-dir/forward), clickhouse (ClickHouse at clickhouse-url), discard (counts and drops, for benchmarks)' },
  threads: {
    kind: 'int',
    min: 1,
    max: 256,
    // The embedded store's writer is a thread of its own: leave it a core (measured on 2 cores: 1.25M
    // samples/s committed with one decode thread, 1.02M with two; see bench/README.md).
    default: c => c.sink?.includes('duckdb') === true ? Math.max(1, availableParallelism() - 1) : availableParallelism(),
    defaultText: `os.availableParallelism(), minus one with sink=duckdb (${Math.max(1, availableParallelism() - 1)} here with duckdb, ${availableParallelism()} with discard)`,
    help: 'decode worker threads'
  },
  slotBytes: { kind: 'size', min: 4096, max: 2 ** 30, default: 1 << 20, help: 'bytes of one normal slot: the shared-memory region one request body streams into' },
  slotCount: { kind: 'int', min: 1, max: 65536, default: c => 4 * (c.threads ?? 1) + 4, defaultText: '4*threads+4', help: 'normal slots: how many requests can be read and decoded at once' },
  largeSlotCount: { kind: 'int', min: 0, max: 1024, default: 2, help: 'large slots (max-body-bytes each) for bodies bigger than slot-bytes; 0 limits bodies to slot-bytes' },
  maxInFlight: { kind: 'int', min: 1, max: 1_000_000, default: c => 4 * ((c.slotCount ?? 1) + (c.largeSlotCount ?? 0)), defaultText: '4*(slot-count+large-slot-count)', help: 'write requests in progress at once (read, decoded or waiting for the sink); more wait up to slot-wait, then get saturation-status' },
  maxBodyBytes: { kind: 'size', min: 4096, max: 2 ** 31 - 1, default: 32 << 20, help: 'largest request body as received (compressed); bigger ones get 413' },
  maxDecompressedBytes: { kind: 'size', min: 4096, max: 2 ** 31 - 1, default: DEFAULT_LIMITS.maxDecompressedBytes, help: 'largest body after snappy decompression; bigger ones get 413' },
  maxLabelsPerSeries: { kind: 'int', min: 1, max: 65536, default: DEFAULT_LIMITS.maxLabelsPerSeries, help: 'most labels in one series; a series with more is invalid' },
  maxLabelNameBytes: { kind: 'size', min: 1, max: 2 ** 24, default: DEFAULT_LIMITS.maxLabelNameBytes, help: 'longest label name; a series with a longer one is invalid' },
  maxLabelValueBytes: { kind: 'size', min: 1, max: 2 ** 24, default: DEFAULT_LIMITS.maxLabelValueBytes, help: 'longest label value; a series with a longer one is invalid' },
  maxSeriesKeyBytes: { kind: 'size', min: 64, max: 2 ** 24, default: DEFAULT_LIMITS.maxSeriesKeyBytes, help: 'longest series key (its labels as stored, plus the tenant); a new series with a longer one is invalid' },
  legacyLabelNames: { kind: 'bool', default: false, help: 'accept only label names matching [a-zA-Z_][a-zA-Z0-9_]* (default: any non-empty UTF-8)' },
  laxUtf8: { kind: 'bool', default: false, help: 'skip the UTF-8 check of label values (faster; invalid bytes are stored as sent)' },
  rejectUnsortedLabels: { kind: 'bool', default: false, help: 'reject series whose labels are not sorted by name (default: sort them, as Prometheus does)' },
  maxSeries: { kind: 'int', min: 1024, max: 2 ** 28, default: 1048576, help: 'capacity of the series index: distinct series the process can know; new series beyond it are refused (400 series_limit, the rest of the request is written)' },
  seriesArenaBytes: {
    kind: 'size',
    min: 65536,
    max: MAX_ARENA_BYTES,
    default: c => defaultArenaBytes(c.maxSeries ?? 1048576),
    defaultText: `${DEFAULT_ARENA_BYTES_PER_SERIES}*max-series, at most 2 GiB`,
    help: 'bytes for the series index\'s label keys (reserved, resident as series arrive); new series whose key does not fit are refused like those past max-series (see docs/series-index.md)'
  },
  slotWait: { kind: 'duration', min: 0, max: 600_000, default: 2000, help: 'how long a request waits to be admitted and for a free slot before it is refused with saturation-status' },
  // Slow senders (docs/security.md): a request holds nothing but its socket until its body arrives; these bound the rest.
  headersTimeout: { kind: 'duration', min: 100, max: 600_000, default: 10_000, help: 'time for a request\'s headers to arrive (from connecting, or from the first byte of a later request on a kept-alive connection); slower ones get 408 and the connection closes' },
  bodyIdleTimeout: { kind: 'duration', min: 100, max: 600_000, default: 5000, help: 'a write body that sends no byte for this long gets 408 (checked in windows of this length: refused within one to two of them), freeing its slot' },
  bodyMinRate: { kind: 'size', min: 0, max: 2 ** 30, default: 32 << 10, help: 'bytes per second a write body must keep up after its first body-idle-timeout window, else 408; 0 checks only body-idle-timeout' },
  saturationStatus: { kind: 'int', values: [503, 429], default: 503, help: 'status when no slot frees in time: 503 (every sender retries) or 429 (Prometheus retries only with retry_on_http_429)' },
  retryAfter: { kind: 'int', min: 0, max: 3600, default: 1, help: 'seconds sent in Retry-After with retryable answers (503, 429)' },
  authBearerToken: { kind: 'string', default: '', secret: true, help: 'require "Authorization: Bearer <token>" on every endpoint but /healthz and /readyz' },
  authBearerTokenFile: { kind: 'path', default: '', help: 'read the bearer token from this file (a mounted Secret); trailing newline ignored' },
  authBasicUser: { kind: 'string', default: '', help: 'require basic auth with this user name (and auth-basic-password or auth-basic-password-file)' },
  authBasicPassword: { kind: 'string', default: '', secret: true, help: 'basic-auth password' },
  authBasicPasswordFile: { kind: 'path', default: '', help: 'read the basic-auth password from this file; trailing newline ignored' },
  // Reads have their own credential, so that a sender's write credential cannot read every tenant's data (docs/query.md).
  authReadBearerToken: { kind: 'string', default: '', secret: true, help: 'require "Authorization: Bearer <token>" on /api/v1/query (the write credentials do not open it); unset while write auth is on: the query route is closed (403)' },
  authReadBearerTokenFile: { kind: 'path', default: '', help: 'read the read bearer token from this file; trailing newline ignored' },
  tenantHeader: { kind: 'string', default: 'X-Scope-OrgID', help: 'request header naming the tenant, carried into the stored series; empty disables tenants' },
  // Per-tenant limits (docs/tenant-limits.md): off while the rate is 0.
  tenantIngestionRate: { kind: 'int', min: 0, max: 2 ** 40, default: 0, help: 'samples + exemplars + histograms per second each tenant may send (token bucket); over it the request is refused whole with tenant-rate-limit-status and Retry-After; 0: no limit' },
  tenantIngestionBurst: { kind: 'int', min: 0, max: 2 ** 40, default: 0, help: 'size of each tenant\'s token bucket (most samples at once); 0: one second at tenant-ingestion-rate' },
  tenantRateLimitStatus: { kind: 'int', values: [429, 503], default: 429, help: 'status of a request over its tenant\'s rate: 429 (Prometheus drops it unless retry_on_http_429: true) or 503 (every sender retries)' },
  tenantMaxSeries: { kind: 'int', min: 0, max: 2 ** 28, default: 0, help: 'most series each tenant may have; new series beyond it are refused (400 tenant_max_series, the tenant\'s known series are written); 0: no limit but max-series' },
  tenantLimits: { kind: 'json', default: {}, help: 'per-tenant overrides (config file: {"<tenant>": {"ingestion-rate": n, "ingestion-burst": n, "max-series": n, "max-labels-per-series": n, "max-label-name-bytes": n, "max-label-value-bytes": n, "ha-dedup": bool, "ha-cluster-label": s, "ha-replica-label": s}}; "" is requests without a tenant); see docs/tenant-limits.md' },
  // HA-pair deduplication (docs/tenant-limits.md), after Mimir's HA tracker.
  haDedup: { kind: 'bool', default: false, help: 'HA-pair deduplication: per tenant and cluster, write only the elected replica\'s requests (others get 202, nothing written) and leave ha-replica-label out of every series' },
  haClusterLabel: { kind: 'string', default: 'cluster', help: 'label naming the HA cluster (read from the first series of a request; kept in the series)' },
  haReplicaLabel: { kind: 'string', default: '__replica__', help: 'label naming the HA replica (read from the first series of a request; removed from every series stored or forwarded)' },
  haFailoverTimeout: { kind: 'duration', min: 100, max: 3_600_000, default: 30_000, help: 'another replica is elected once the elected one has sent nothing for this long' },
  // Relabeling (docs/relabeling.md): Prometheus' relabel_configs, before every sink.
  relabelConfigs: { kind: 'json', default: [], help: 'global relabeling rules, before every sink (config file: relabel_configs, a list in Prometheus\' own form; per destination: forward-destinations[i].relabel_configs); see docs/relabeling.md' },
  relabelCompat: { kind: 'int', values: [3, 2], default: 3, help: 'relabeling semantics: 3 (Prometheus 3: regexes ^(?s:...)$, UTF-8 target labels) or 2 (Prometheus 2.42)' },
  relabelCacheBytes: { kind: 'size', min: 0, max: 2 ** 40, default: 64 << 20, help: 'bound on the relabeled label sets each relabeling cache keeps (one per decode worker and per destination with rules); past it the oldest go and their series are relabeled again when they come' },
  dataDir: { kind: 'path', default: './data', help: 'directory of the embedded store' },
  commitInterval: { kind: 'duration', min: 0, max: 60_000, default: 50, help: 'longest time batches wait to be committed together (group commit)' },
  commitMaxRows: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 1_000_000, help: 'commit as soon as this many rows wait' },
  retention: { kind: 'duration', min: 0, default: 0, help: 'delete samples older than this (for example 15d); 0 keeps them forever' },
  blockWindow: { kind: 'duration', min: 1_000, max: 7 * 86_400_000, default: 7_200_000, help: 'time window of a block: once a window has been closed for a quarter of it, its rows move from the DuckDB head to a Parquet block under data-dir/blocks (docs/store.md)' },
  compactionInterval: { kind: 'duration', min: 0, max: 86_400_000, default: 60_000, help: 'how often closed windows are compacted into blocks; 0: only on demand (prom-ingest compact)' },
  queryTimeout: { kind: 'duration', min: 1, max: 3_600_000, default: 30_000, help: 'longest a query may run (it is stopped then), and longest it may wait for a turn (then 503 query_queue_full)' },
  queryMaxRows: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 100_000, help: 'most rows in a query answer; the answer says when rows were left out' },
  queryMaxAnswerBytes: { kind: 'size', min: 4096, max: 2 ** 40, default: 64 << 20, help: 'largest query answer; a larger one gets 400 query_too_large (or is cut, past query-hold-bytes)' },
  queryHoldBytes: { kind: 'size', min: 0, max: 2 ** 40, default: 1 << 20, help: 'bytes of a query answer held back before its status is sent: within them every failure gets its own status; past them the answer streams' },
  // The store's worker runs at most this many queries at once on their own connections; the third one
  // is why a short query does not wait behind two long ones (docs/query.md has the reasoning).
  queryConcurrency: { kind: 'int', min: 1, max: 64, default: 3, help: 'queries that run at once (each on its own DuckDB connection); more wait in the query queue' },
  queryQueue: { kind: 'int', min: 0, max: 10_000, default: 16, help: 'queries that may wait for a turn; beyond them a query gets 503 query_queue_full with Retry-After' },
  // Remote read (docs/remote-read.md): a query's samples are held whole while its answer is encoded (16 bytes each, plus the answer).
  readMaxSamples: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 5_000_000, help: 'most samples one remote-read query may return; more gets 400 read_too_large (Prometheus\' read-sample-limit)' },
  readMaxConcurrency: { kind: 'int', min: 1, max: 64, default: 2, help: 'remote reads that run at once (each on its own DuckDB connection); as many more may wait, beyond them 503 read_queue_full with Retry-After' },
  duckdbMemoryLimit: { kind: 'size', min: 16 << 20, max: 2 ** 50, default: 48_000_000, defaultText: '48MB', help: 'memory limit of the embedded store (DuckDB\'s buffer pool: cache, writes, queries); raise it for large series or heavy queries' },
  // The DuckDB defaults are the store's (DEFAULT_MEMORY_LIMIT, DEFAULT_THREADS, DEFAULT_CHECKPOINT_THRESHOLD in src/sinks/duckdb/duckdb-store.ts;
  // test/sinks/duckdb/store-settings.test.ts keeps them equal), measured in bench/README.md (the store against VictoriaMetrics).
  duckdbThreads: { kind: 'int', min: 0, max: 1024, default: 1, help: 'DuckDB\'s threads: more run checkpoint compression and queries in parallel, and compete with the decode workers for cores; 0: one per core' },
  duckdbCheckpointThreshold: { kind: 'size', min: 1 << 20, max: 2 ** 40, default: 16 << 20, defaultText: '16MiB', help: 'write-ahead log size at which the store checkpoints (compresses the logged rows into the file); larger: fewer, longer checkpoints and more memory' },
  duckdbAck: { kind: 'enum', values: DUCKDB_ACKS, default: 'log', help: 'when a write to the store is acknowledged: log (once its body is fsync\'d in data-dir/store-log; DuckDB commits behind it in transactions of up to 60,000 rows, reads wait for what was acknowledged, and a restart stores the log again) or commit (once DuckDB committed its rows: slower, no log); docs/store.md' },
  workerYoungGeneration: { kind: 'size', min: 0, max: 1 << 30, default: 8 << 20, defaultText: '8MiB', help: 'V8 young-generation size of each worker thread (decode workers, the store\'s worker); smaller: less memory, more frequent short collections; 0: V8\'s default' },
  sinkUnreadyAfter: { kind: 'duration', min: 0, max: 3_600_000, default: 30_000, help: '/readyz answers 503 while every commit of the sink has failed for this long (0: never for this reason)' },
  forwardUrl: { kind: 'list', default: [], help: 'remote-write URL of a forward destination; repeat the flag (or comma-separate) for several; each gets the whole stream unless forward-shard' },
  forwardDestinations: { kind: 'json', default: [], secret: true, help: 'destinations with their own settings (config file: an array of {url, name, headers, bearerTokenFile, basicAuth: {username, passwordFile}, protocol, timeout, maxInFlight, queueLimit}); see docs/forwarding.md' },
  forwardShard: { kind: 'bool', default: false, help: 'shard mode: each series goes to exactly one destination, chosen by a rendezvous hash of its labels (default: every destination gets everything)' },
  forwardMaxInFlight: { kind: 'int', min: 1, max: 64, default: 1, help: 'requests in flight per destination; above 1, ordered lanes by tenant: each tenant in order, up to N tenants at once (see docs/forwarding.md)' },
  forwardTimeout: { kind: 'duration', min: 100, max: 600_000, default: 30_000, help: 'time a destination has to answer one request before it is retried' },
  forwardQueueLimit: { kind: 'size', min: 1 << 16, max: 2 ** 50, default: 2 ** 30, help: 'bytes a destination may have waiting in the queue; beyond it forward-queue-full applies' },
  forwardQueueFull: { kind: 'enum', values: QUEUE_FULL_POLICIES, default: 'refuse', help: 'when a destination\'s queue is full: refuse (new writes get 503 with Retry-After, nothing is lost) or drop-oldest (counted)' },
  forwardDecode: { kind: 'enum', values: FORWARD_DECODES, default: 'full', help: 'how a pure gateway (sink forward alone; no relabeling, forward-shard, HA deduplication or per-tenant max-series) checks requests: full (the decode with the series index) or validate-only (the same checks, errors and counts without the series index: new series cost far less and the index never fills, known series cost more; docs/forwarding.md "Gateway decode")' },
  forwardRetryMinBackoff: { kind: 'duration', min: 1, max: 3_600_000, default: 1000, help: 'first wait before a failed forward request is retried; doubles up to forward-retry-max-backoff' },
  forwardRetryMaxBackoff: { kind: 'duration', min: 1, max: 3_600_000, default: 60_000, help: 'longest wait between retries (also the wait of a stuck destination: 401, 403, 404)' },
  clickhouseUrl: { kind: 'list', default: [], help: 'HTTP URL of ClickHouse for sink clickhouse (http://host:8123); several are tried in turn' },
  clickhouseDatabase: { kind: 'string', default: 'default', help: 'ClickHouse database of the tables (created when missing, with clickhouse-create-tables)' },
  clickhouseUser: { kind: 'string', default: 'default', help: 'ClickHouse user' },
  clickhousePasswordFile: { kind: 'path', default: '', help: 'read the ClickHouse password from this file; trailing newline ignored' },
  clickhousePassword: { kind: 'string', default: '', secret: true, help: 'ClickHouse password (prefer clickhouse-password-file)' },
  clickhouseTablePrefix: { kind: 'string', default: 'prom_', help: 'prefix of the ClickHouse table names (prom_series, prom_samples, prom_histograms, prom_exemplars, prom_metadata)' },
  clickhouseCreateTables: { kind: 'bool', default: true, help: 'create the ClickHouse database and tables when missing, with the DDL of the server\'s version (see docs/clickhouse.md)' },
  clickhouseCluster: { kind: 'string', default: '', help: 'ClickHouse cluster (of the servers\' remote_servers): local tables on every server and Distributed tables over them, sharded by series fingerprint; rows go to the Distributed tables (see docs/clickhouse.md)' },
  clickhouseFlushRows: { kind: 'int', min: 1, max: 2 ** 31 - 1, default: 100_000, help: 'ClickHouse: one INSERT per table as soon as this many rows wait (few large inserts: each makes a part)' },
  clickhouseFlushInterval: { kind: 'duration', min: 1, max: 60_000, default: 1000, help: 'ClickHouse: longest rows wait before their INSERT; requests are answered when it is confirmed' },
  clickhouseFlushGap: { kind: 'duration', min: 0, max: 60_000, default: 20, help: 'ClickHouse: shortest time between the starts of two flushes (at most 1000/gap parts a second per table from one replica); a flush holds at most what senders have in flight, so a longer gap caps throughput' },
  shutdownGrace: { kind: 'duration', min: 0, max: 3_600_000, default: 25_000, help: 'on SIGTERM/SIGINT: time to finish in-flight requests and flush the sinks before exiting' },
  logLevel: { kind: 'enum', values: LOG_LEVELS, default: 'info', help: 'log level of the JSON logs on stdout' }
}

export const SETTING_KEYS = Object.keys(SETTINGS) as Array<keyof Config>

/** `slotBytes` -> `slot-bytes`. */
export function flagName (key: keyof Config): string {
  return key.replace(/[A-Z]/g, m => '-' + m.toLowerCase())
}

/** `slotBytes` -> `PROM_INGEST_SLOT_BYTES`. */
export function envName (key: keyof Config): string {
  return 'PROM_INGEST_' + flagName(key).replace(/-/g, '_').toUpperCase()
}
