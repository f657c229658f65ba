/**
 * Every per-tenant limit's refusal names the limit (an err-prom-ingest-... id, as Mimir's err-mimir-...
 * ids) and says how to raise it, against the real process: ingestion rate, max series, label names
 * per series, label name length, label value length. The texts are asserted whole where they are
 * fixed, so that a change to them is a deliberate one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { compressBody, encodeWriteRequest1, type LabelPair, type TimeSeries1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

let running: ServiceProcess[] = []
afterEach(async () => {
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})

const T0 = 1_700_000_000_000
const TENANT = { 'X-Scope-OrgID': 'small' }

function series (labels: LabelPair[], i = 0): TimeSeries1 {
  return { labels: [['__name__', 'm'], ['i', String(i)], ...labels], samples: [{ value: 1, timestamp: T0 }] }
}

async function send (p: ServiceProcess, timeseries: TimeSeries1[]): Promise<{ status: number, code: string | undefined, body: string }> {
  const res = await postWrite(p.url, compressBody(encodeWriteRequest1({ timeseries })), { headers: TENANT })
  return { status: res.status, code: res.headers['x-prom-ingest-error'], body: res.body }
}

describe('per-tenant limit messages', () => {
  it('name the limit and how to raise it, for each of the five limits', async () => {
    const limits = { small: { 'max-series': 2, 'max-labels-per-series': 4, 'max-label-name-bytes': 8, 'max-label-value-bytes': 8, 'ingestion-rate': 1, 'ingestion-burst': 6 } }
    const p = await startServiceProcess(['--sink', 'discard', '--threads', '1'], { PROM_INGEST_TENANT_LIMITS: JSON.stringify(limits) })
    running.push(p)

    // The bucket holds 6; the 101 samples written below pass on it (a request above the burst passes
    // on a full bucket, into debt), so the bucket is then about 95 samples in debt (95 s at 1/s).
    const first = series([], 1)
    const many = await send(p, [{ ...first, samples: Array.from({ length: 100 }, (_, k) => ({ value: k, timestamp: T0 + k })) }, series([], 2), series([], 3)])
    expect(many).toMatchObject({ status: 400, code: 'tenant_max_series' })
    expect(many.body).toContain('the tenant has 2 series, its max-series (err-prom-ingest-tenant-max-series). To adjust, set max-series for the tenant in tenant-limits, or tenant-max-series for every tenant')

    // Series refused for their labels carry no samples: the rate does not see them.
    const labels = await send(p, [series([['a', '1'], ['b', '2'], ['c', '3']])])
    expect(labels).toMatchObject({ status: 400, code: 'too_many_labels' })
    expect(labels.body).toContain('the series has 5 labels, more than the limit of 4 (err-prom-ingest-max-label-names-per-series). To adjust, set max-labels-per-series for the tenant in tenant-limits, or max-labels-per-series for every tenant')

    const name = await send(p, [series([['longname1', 'v']])])
    expect(name).toMatchObject({ status: 400, code: 'label_name_too_long' })
    expect(name.body).toContain('is 9 bytes, more than the limit of 8 (err-prom-ingest-label-name-too-long). To adjust, set max-label-name-bytes for the tenant in tenant-limits, or max-label-name-bytes for every tenant')

    const value = await send(p, [series([['v', 'ninechars']])])
    expect(value).toMatchObject({ status: 400, code: 'label_value_too_long' })
    expect(value.body).toContain('the value of label "v" is 9 bytes, more than the limit of 8 (err-prom-ingest-label-value-too-long). To adjust, set max-label-value-bytes for the tenant in tenant-limits, or max-label-value-bytes for every tenant')

    // The bucket is still in debt from the first request (refilled at 1 sample/s): over the rate.
    const rate = await send(p, [series([], 1)])
    expect(rate).toMatchObject({ status: 429, code: 'tenant_max_ingestion_rate' })
    expect(rate.body).toContain('over the ingestion rate of tenant "small" (1/s, burst 6)')
    expect(rate.body).toContain('(err-prom-ingest-tenant-max-ingestion-rate). To adjust, set ingestion-rate (and ingestion-burst) for the tenant in tenant-limits, or tenant-ingestion-rate for every tenant')
  })
})
