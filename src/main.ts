/**
 * Wires the service: config -> series index -> sink (started; the store loads the series it knows
 * into the index) -> decode pool -> metrics -> HTTP server. `startService` runs it in-process (tests do
 * that too); `prom-ingest serve` (src/cli/serve.ts) adds signals and the exit code.
 *
 * Shutdown (`close`): stop accepting (readyz turns 503, the listening socket closes, idle connections
 * close), let in-flight requests finish and be acknowledged, then flush and close the sink and the
 * pool. In-flight requests get until `shutdown-grace` minus a flush reserve; whatever is still
 * running then is cut off.
 */
import type { Registry } from 'prom-client'
import { formatListen, publicConfig } from './config/load-config.js'
import type { Config, SinkName } from './config/schema.js'
import { IngestError, setRateLimitStatus, setSaturationStatus, toIngestError } from './errors.js'
import { TenantGate } from './limits/tenant-gate.js'
import { tenantLimitTable } from './limits/tenant-limits.js'
import { TenantSeriesCounts } from './limits/tenant-series.js'
import { createLogger, type Logger } from './logger.js'
import { IngestMetrics } from './metrics/ingest-metrics.js'
import { registry as processRegistry } from './metrics/registry.js'
import { DecodePool } from './pool/decode-pool.js'
import type { SlotClassConfig } from './pool/slot-pool.js'
import { Admission } from './receive/admission.js'
import { createAuthenticator, createReadAuthenticator } from './receive/auth.js'
import { IngestServer, type HttpRoute } from './receive/server.js'
import { SeriesIndex } from './series/series-index.js'
import { RelabelMetrics } from './relabel/relabel-metrics.js'
import { serviceRules, type ServiceRules } from './relabel/service-rules.js'
import { createDiscardSink } from './sinks/discard-sink.js'
import { FanOutSink } from './sinks/fan-out.js'
import type { Sink } from './sinks/sink.js'
import { StatusPage } from './status/status-page.js'

export interface ServiceOptions {
  /** Logger (default: a pino logger at config.logLevel on stdout). */
  logger?: Logger
  /** Sink to use instead of the one config.sink names (tests pass slow or failing sinks). */
  sink?: Sink
  /** Registry for the self-metrics (default the process registry; tests pass a fresh one). */
  registry?: Registry
  /** Routes to serve beside the built-in ones. */
  routes?: HttpRoute[]
}

export interface Service {
  /** Base URL, `http://host:port`. */
  readonly url: string
  readonly address: string
  readonly port: number
  readonly config: Config
  readonly pool: DecodePool
  readonly admission: Admission
  readonly sink: Sink
  readonly metrics: IngestMetrics
  readonly registry: Registry
  readonly logger: Logger
  readonly server: IngestServer
  /** The status page at / and its JSON routes (src/status/). */
  readonly status: StatusPage
  /** Pool and sink up, not shutting down. */
  ready(): boolean
  /**
   * Graceful shutdown within `graceMs` (default config.shutdownGrace). Resolves true when every
   * in-flight request finished and the sink flushed in time, false when something was cut off.
   * Calling it again returns the same promise.
   */
  close(graceMs?: number): Promise<boolean>
}

/** A sink may serve reads over HTTP (the store's query endpoint) by listing routes. */
interface SinkWithRoutes extends Sink { readonly routes?: readonly HttpRoute[] }

/** Slot classes from the settings: normal slots, and large ones of max-body-bytes. */
export function slotClassesOf (config: Config): SlotClassConfig[] {
  const normal = Math.min(config.slotBytes, config.maxBodyBytes)
  const classes: SlotClassConfig[] = [{ bytes: normal, count: config.slotCount }]
  if (config.maxBodyBytes > normal && config.largeSlotCount > 0) classes.push({ bytes: config.maxBodyBytes, count: config.largeSlotCount })
  return classes
}

export async function startService (config: Config, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const registry = options.registry ?? processRegistry
  // Listening, shutting down and stopped are logged at any level but silent: tools wait for 'listening'.
  const lifecycle = logger.level === 'silent' ? logger : logger.child({}, { level: logger.levelVal > 30 ? 'info' : logger.level })
  logger.info({ config: publicConfig(config) }, 'starting')

  setSaturationStatus(config.saturationStatus)
  setRateLimitStatus(config.tenantRateLimitStatus)
  const index = SeriesIndex.create({ maxSeries: config.maxSeries, arenaBytes: config.seriesArenaBytes })
  // Relabeling (docs/relabeling.md): global rules in the decode workers, per-destination rules in the forward sink.
  const rules = serviceRules(config)
  const sink = options.sink ?? await createConfiguredSink(config, index, logger, registry, rules)
  const limitTable = tenantLimitTable(config.tenantIngestionRate, config.tenantIngestionBurst, config.tenantLimits, config.tenantMaxSeries, { dedup: config.haDedup, clusterLabel: config.haClusterLabel, replicaLabel: config.haReplicaLabel })
  // The gateway decode (docs/forwarding.md): chosen, and every sink forwards the body as received, and nothing needs series ids.
  const validateOnly = config.forwardDecode === 'validate-only'
  if (validateOnly) {
    const needs = sink.bodyOnly !== true ? 'a sink other than forward, forward-shard or per-destination relabeling' : rules?.global !== undefined ? 'global relabeling rules' : limitTable.anyHa ? 'HA deduplication' : limitTable.anyMaxSeries ? 'a per-tenant max-series' : undefined
    if (needs !== undefined) {
      await sink.close().catch(() => {})
      throw new IngestError('config_invalid', `forward-decode validate-only: ${needs} needs the series of each request, which only the full decode gives; set forward-decode full`)
    }
  }
  const serviceInfo = await serviceInfoHooks(config, options.sink === undefined)
  // The store starts first: it loads the series it knows into the index before any request.
  await sink.start()
  // Per-tenant max-series: counters shared with the workers, filled from the series the store loaded.
  const tenantSeries = limitTable.anyMaxSeries ? new TenantSeriesCounts(config.maxSeries) : undefined
  tenantSeries?.loadFrom(index)
  let pool: DecodePool | undefined
  try {
    pool = new DecodePool({
      validateOnly,
      tenantSeries: tenantSeries?.shared,
      threads: config.threads,
      youngGenerationBytes: config.workerYoungGeneration,
      slotClasses: slotClassesOf(config),
      index,
      limits: {
        maxDecompressedBytes: config.maxDecompressedBytes,
        maxLabelsPerSeries: config.maxLabelsPerSeries,
        maxLabelNameBytes: config.maxLabelNameBytes,
        maxLabelValueBytes: config.maxLabelValueBytes,
        maxSeriesKeyBytes: config.maxSeriesKeyBytes
      },
      legacyNames: config.legacyLabelNames,
      strictUtf8: !config.laxUtf8,
      rejectUnsortedLabels: config.rejectUnsortedLabels,
      haReplicaLabel: config.haDedup ? config.haReplicaLabel : '',
      haClusterLabel: config.haClusterLabel,
      relabel: rules?.global
    })
  } catch (err) {
    await sink.close().catch(() => {})
    throw err
  }
  const decodePool = pool

  const admission = new Admission(config.maxInFlight)
  const metrics = new IngestMetrics(registry, decodePool, admission)
  const relabelMetrics = rules === undefined ? undefined : new RelabelMetrics(rules.figures, registry)
  const gate = new TenantGate(limitTable, registry, logger, { failoverTimeoutMs: limitTable.anyHa ? config.haFailoverTimeout : 0 }, tenantSeries)
  // Start-up failed past this point: undo what was set up, in reverse.
  const abandon = async (): Promise<void> => {
    metrics.unregister()
    gate.unregister()
    relabelMetrics?.unregister()
    await decodePool.close()
    await sink.close().catch(() => {})
  }
  // A sink with a log of its own (the store with duckdb-ack log) stores again what it held beyond its store, before any request.
  try {
    await sink.replay?.(async (body, version, tenant) => {
      const slot = await decodePool.acquireSlot(body.length, config.slotWait)
      slot.bytes.set(body)
      return await decodePool.decode(slot, body.length, { version, tenant, partial: true, ...gate.decodeLimits(tenant) })
    })
  } catch (err) {
    await abandon()
    throw err
  }
  const auth = createAuthenticator(config)
  const readAuth = createReadAuthenticator(config, auth)
  let poolUp = true
  const ready = (): boolean => poolUp && sink.ready()
  const parts: readonly Sink[] = sink instanceof FanOutSink ? sink.sinks : [sink]
  const status = new StatusPage({ metrics, registry, pool: decodePool, index, admission, sinks: parts, sinkName: sink.name, tenantHeader: config.tenantHeader.toLowerCase() })
  const routes = [...(options.routes ?? []), ...parts.flatMap(p => (p as SinkWithRoutes).routes ?? []), ...status.routes]

  const server = new IngestServer({
    pool: decodePool,
    admission,
    sink,
    metrics,
    gate,
    registry,
    logger,
    auth,
    readAuth,
    ready,
    routes,
    policy: { retryAfterSeconds: config.retryAfter, authenticate: auth.challenges, onAnswer: (res, err, code) => status.rejections.record(res, err, code) },
    settings: {
      slotBytes: Math.min(config.slotBytes, config.maxBodyBytes),
      maxBodyBytes: config.largeSlotCount > 0 ? config.maxBodyBytes : Math.min(config.slotBytes, config.maxBodyBytes),
      slotWaitMs: config.slotWait,
      tenantHeader: config.tenantHeader.toLowerCase(),
      bodyIdleTimeoutMs: config.bodyIdleTimeout,
      bodyMinRate: config.bodyMinRate,
      headersTimeoutMs: config.headersTimeout
    }
  })

  let bound: { address: string, port: number }
  try {
    bound = await server.listen(config.listen.host, config.listen.port)
  } catch (err) {
    await abandon()
    const e = err as NodeJS.ErrnoException
    throw new IngestError('config_invalid', `listen: cannot listen on ${formatListen(config.listen)}: ${e.code ?? e.message}`)
  }
  const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address
  // Local clients reach a wildcard address on loopback.
  serviceInfo.listening(bound.address === '0.0.0.0' ? '127.0.0.1' : bound.address === '::' ? '::1' : bound.address, bound.port)
  status.start()
  lifecycle.info({ port: bound.port, address: bound.address, sink: sink.name, decode: validateOnly ? 'gateway' : 'full', threads: decodePool.threads, slots: decodePool.stats().slotsTotal }, 'listening')

  let closing: Promise<boolean> | undefined
  const close = (graceMs = config.shutdownGrace): Promise<boolean> => {
    closing ??= (async () => {
      const t0 = Date.now()
      // Keep a share of the grace period for flushing the sink once requests are done.
      const flushReserve = Math.min(5000, Math.floor(graceMs / 5))
      lifecycle.info({ inFlight: server.active, graceMs }, 'shutting down: no new requests, finishing those in flight')
      server.beginShutdown()
      let clean = await server.drained(t0 + graceMs - flushReserve)
      if (!clean) logger.warn({ inFlight: server.active }, 'shutdown grace period over: cutting off requests still in flight')
      admission.rejectWaiting(new IngestError('shutting_down', 'the service is shutting down'))
      server.destroyConnections()
      poolUp = false
      await status.close()
      try {
        await sink.close()
      } catch (err) {
        clean = false
        logger.error({ sink: sink.name, err: toIngestError(err).message }, 'closing the sink failed')
      }
      await decodePool.close()
      serviceInfo.stopped()
      metrics.unregister()
      gate.unregister()
      relabelMetrics?.unregister()
      lifecycle.info({ ms: Date.now() - t0, clean }, 'stopped')
      return clean
    })()
    return closing
  }

  return {
    url: `http://${host}:${bound.port}`,
    address: bound.address,
    port: bound.port,
    config,
    pool: decodePool,
    admission,
    sink,
    metrics,
    registry,
    logger,
    server,
    status,
    ready: () => !server.closing && ready(),
    close
  }
}

/** The sinks that config.sink names, as one (several: a FanOutSink). Each is loaded only when chosen. */
async function createConfiguredSink (config: Config, index: SeriesIndex, logger: Logger, registry: Registry, rules?: ServiceRules): Promise<Sink> {
  const sinks: Sink[] = []
  for (const name of config.sink) sinks.push(await createNamedSink(name, config, index, logger, registry, rules))
  return sinks.length === 1 ? sinks[0]! : new FanOutSink(sinks)
}

async function createNamedSink (name: SinkName, config: Config, index: SeriesIndex, logger: Logger, registry: Registry, rules?: ServiceRules): Promise<Sink> {
  if (name === 'discard') return createDiscardSink()
  if (name === 'forward') {
    const { createForwardSink, destinationsOf, createBatchEncoder, DestinationRules } = await import('./forward/index.js')
    return createForwardSink({
      dataDir: config.dataDir,
      destinations: destinationsOf(config),
      queueFull: config.forwardQueueFull,
      backoff: { minMs: config.forwardRetryMinBackoff, maxMs: config.forwardRetryMaxBackoff },
      tenantHeader: config.tenantHeader.toLowerCase(),
      shard: config.forwardShard,
      encoder: createBatchEncoder(),
      rules: rules === undefined || rules.destinations.size === 0 ? undefined : new DestinationRules({ rules: rules.destinations, maxSeries: config.maxSeries, cacheBytes: config.relabelCacheBytes, figures: rules.figures }),
      logger,
      registry
    })
  }
  if (name === 'clickhouse') {
    const { createClickHouseSink } = await import('./sinks/clickhouse/index.js')
    return createClickHouseSink({
      urls: config.clickhouseUrl,
      database: config.clickhouseDatabase,
      user: config.clickhouseUser,
      password: config.clickhousePassword,
      tablePrefix: config.clickhouseTablePrefix,
      createTables: config.clickhouseCreateTables,
      cluster: config.clickhouseCluster === '' ? undefined : config.clickhouseCluster,
      flushRows: config.clickhouseFlushRows,
      flushIntervalMs: config.clickhouseFlushInterval,
      flushGapMs: config.clickhouseFlushGap,
      retentionMs: config.retention,
      unreadyAfterMs: config.sinkUnreadyAfter,
      index,
      logger,
      registry
    })
  }
  const { createDuckDbSink } = await import('./sinks/duckdb/index.js')
  return createDuckDbSink({
    dataDir: config.dataDir,
    commitInterval: config.commitInterval,
    commitMaxRows: config.commitMaxRows,
    retentionMs: config.retention,
    blockWindowMs: config.blockWindow,
    compactionIntervalMs: config.compactionInterval,
    queryLimits: { maxRows: config.queryMaxRows, timeoutMs: config.queryTimeout, maxAnswerBytes: config.queryMaxAnswerBytes },
    queryConcurrency: config.queryConcurrency,
    queryQueue: config.queryQueue,
    readMaxSamples: config.readMaxSamples,
    readMaxConcurrency: config.readMaxConcurrency,
    tenantHeader: config.tenantHeader.toLowerCase(),
    retryAfterSeconds: config.retryAfter,
    queryHoldBytes: config.queryHoldBytes,
    memoryLimit: `${config.duckdbMemoryLimit}B`,
    threads: config.duckdbThreads,
    checkpointThreshold: `${config.duckdbCheckpointThreshold}B`,
    ack: config.duckdbAck,
    youngGenerationBytes: config.workerYoungGeneration,
    unreadyAfterMs: config.sinkUnreadyAfter,
    index,
    logger,
    registry
  })
}

/**
 * The store's `service.json` tells `prom-ingest query` where the running service is (DuckDB lets one
 * process open the file). Written once listening, removed on shutdown; only for the configured store.
 */
async function serviceInfoHooks (config: Config, configured: boolean): Promise<{ listening(host: string, port: number): void, stopped(): void }> {
  if (!configured || !config.sink.includes('duckdb')) return { listening () {}, stopped () {} }
  const { writeServiceInfo, removeServiceInfo } = await import('./sinks/duckdb/index.js')
  return {
    listening (host, port) { writeServiceInfo(config.dataDir, { port, pid: process.pid, host }) },
    stopped () { removeServiceInfo(config.dataDir) }
  }
}
