/**
 * A real Prometheus 2.42 whose remote-write batches are all larger than `max-body-bytes`: each is
 * answered 413 `body_too_large` before its body is read, and Prometheus must see that answer (it
 * drops the batch and counts its samples as failed) rather than a reset connection (which it retries
 * for ever, blocking its shard). The service lingers after the 413 (src/receive/lingering-close.ts):
 * this checks that a real Go sender still writing its body reads the answer, drops the batch and
 * retries nothing. On loopback main's immediate close passes too (Go reads the 413 as soon as it
 * arrives, before its write fails, and nothing delays the answer's packets): the reset that loses the
 * answer needs a sender that does not read while it writes (test/receive/lingering-close.test.ts) or a
 * network on which the answer is still unsent or unacknowledged when the socket closes.
 * Skipped at run time, naming the binary, where /usr/bin/prometheus is missing.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { available, PROMETHEUS, startPrometheusReceiver, type Peer } from '../helpers/peers.js'
import { startScrapeTarget, type ScrapeTarget } from '../helpers/scrape-target.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const hasPrometheus = available(PROMETHEUS)
if (!hasPrometheus) console.warn(`too-large-batch: ${PROMETHEUS} is missing, the test with a real Prometheus is skipped (apt-get install prometheus)`)

/** Batches Prometheus must have had refused before the counters are compared. */
const BATCHES = 3
const SERIES = 250
const PER_SEND = SERIES

describe.runIf(hasPrometheus)('a remote-write batch over max-body-bytes, from Prometheus 2.42', () => {
  const dirs: string[] = []
  let target: ScrapeTarget | undefined
  let ingest: ServiceProcess | undefined
  let prom: Peer | undefined

  afterAll(async () => {
    await prom?.stop()
    await ingest?.stop()
    await target?.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('is answered 413, which Prometheus reads: it drops the batch, and retries nothing', async () => {
    // 250 series with 16 KiB values that do not compress: every batch is about 4 MiB, so Prometheus is
    // still writing it when the 413 comes, and the service reads and drops the rest while it lingers.
    const series = Array.from({ length: SERIES }, (_, i) => ({ __name__: 'wide_series', id: String(i), v: randomBytes(8 << 10).toString('hex') }))
    target = await startScrapeTarget(series)
    ingest = await startServiceProcess(['--sink', 'discard', '--threads', '1', '--max-body-bytes', '64KiB', '--log-level', 'warn'])
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-too-large-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: wide',
      `    static_configs: [{ targets: ['127.0.0.1:${target.port}'] }]`,
      'remote_write:',
      `  - url: ${ingest.url}/api/v1/write`,
      // One shard, short back-offs: a reset would show at once as retried samples.
      `    queue_config: { batch_send_deadline: 100ms, max_samples_per_send: ${PER_SEND}, min_shards: 1, max_shards: 1, min_backoff: 30ms, max_backoff: 100ms }`,
      '    metadata_config: { send: false }',
      ''
    ].join('\n'))
    prom = await startPrometheusReceiver(join(dir, 'tsdb'), join(dir, 'prometheus.yml'))

    // Bounded wait (Prometheus scrapes, writes its WAL, then sends): until BATCHES batches were refused.
    let failed = 0
    for (let i = 0; i < 900 && failed < BATCHES * PER_SEND; i++) {
      failed = sumOf(await scrapeMetrics(prom.url), 'prometheus_remote_storage_samples_failed_total')
      if (failed < BATCHES * PER_SEND) await sleep(100)
    }
    expect(failed).toBeGreaterThanOrEqual(BATCHES * PER_SEND)
    const promMetrics = await scrapeMetrics(prom.url)
    // Every refused batch was read as a 413: none was sent again after a connection error.
    expect(sumOf(promMetrics, 'prometheus_remote_storage_samples_retried_total')).toBe(0)
    const ours = await scrapeMetrics(ingest.url)
    expect(sumOf(ours, 'prom_ingest_rejected_requests_total', { reason: 'body_too_large' })).toBeGreaterThanOrEqual(BATCHES)
  }, 180_000)
})
