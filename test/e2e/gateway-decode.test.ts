/**
 * The gateway decode (`--forward-decode validate-only`) through real processes: a pure gateway and the
 * same gateway with the full decode, both forwarding to a destination of our own. A bad body gets the
 * same answer from both (status, code, message, 2.0 written counts); a good one, and one with its labels
 * out of order, arrives at the destination byte for byte as sent; a partial one arrives as the valid
 * series encoded again, the same from both; the gateway's series index stays empty.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { compressBody, encodeRequest2, encodeWriteRequest1, type LabelPair } from '../fixtures/encode.js'
import { scrapeMetrics, sumOf } from '../helpers/exposition.js'
import { sampleKeys, startFaultDestination, type FaultDestination } from '../helpers/fault-destination.js'
import { postWrite, type RemoteWriteVersion, type WriteAnswer } from '../helpers/remote-write.js'
import { jsonLogs, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { removeTempDirs, tempDir } from '../sinks/duckdb/helpers.js'

const T0 = 1_700_000_000_000

let destination: FaultDestination
let gateway: ServiceProcess
let full: ServiceProcess

beforeAll(async () => {
  destination = await startFaultDestination()
  const args = (decode: string): string[] => ['--threads', '1', '--sink', 'forward', '--forward-url', destination.url, '--data-dir', tempDir(), '--forward-decode', decode]
  ;[gateway, full] = await Promise.all([startServiceProcess(args('validate-only')), startServiceProcess(args('full'))])
}, 60_000)

afterAll(async () => {
  await Promise.all([gateway?.stop(), full?.stop()])
  await destination?.close()
  removeTempDirs()
})

let series = 0
/** A body of `labelSets` (one sample each, fresh timestamps), compressed. */
function body (version: RemoteWriteVersion, labelSets: LabelPair[][]): Uint8Array {
  const ts = T0 + ++series
  const timeseries = labelSets.map(labels => ({ labels, samples: [{ value: series, timestamp: ts }] }))
  return compressBody(version === '1.0' ? encodeWriteRequest1({ timeseries }) : encodeRequest2({ timeseries }))
}

/** What a sender sees: status, body, and the 2.0 written counts. */
function seen (a: WriteAnswer): unknown {
  return { status: a.status, body: a.body, samples: a.headers['x-prometheus-remote-write-samples-written'] }
}

/** Posts `b` to both services and returns the bodies the destination got from each. */
async function both (version: RemoteWriteVersion, b: Uint8Array): Promise<{ gw: WriteAnswer, fu: WriteAnswer, gwBodies: Buffer[], fuBodies: Buffer[] }> {
  let at = destination.requests.length
  const gw = await postWrite(gateway.url, b, { version })
  const gwSent = gw.status === 204 || gw.status === 400 ? 1 : 0
  await destination.waitForRequests(at + gwSent)
  const gwBodies = destination.requests.slice(at).map(r => r.body)
  at = destination.requests.length
  const fu = await postWrite(full.url, b, { version })
  await destination.waitForRequests(at + gwBodies.length)
  const fuBodies = destination.requests.slice(at).map(r => r.body)
  return { gw, fu, gwBodies, fuBodies }
}

describe('a pure gateway with --forward-decode validate-only', () => {
  it('says so at start-up', () => {
    expect(jsonLogs(gateway.logs).find(l => l.msg === 'listening')?.decode).toBe('gateway')
    expect(jsonLogs(full.logs).find(l => l.msg === 'listening')?.decode).toBe('full')
  })

  describe.each(['1.0', '2.0'] as const)('Remote Write %s', version => {
    const good: LabelPair[] = [['__name__', 'up'], ['instance', 'a'], ['job', 'j']]

    it('forwards a good body byte for byte, and one with labels out of order as it came', async () => {
      for (const labels of [good, [['job', 'j'], ['__name__', 'up'], ['instance', 'b']] as LabelPair[]]) {
        const b = body(version, [labels, [['__name__', 'other'], ['x', 'y'.repeat(200)]]])
        const { gw, fu, gwBodies, fuBodies } = await both(version, b)
        expect(seen(gw)).toEqual(seen(fu))
        expect(gw.status).toBe(204)
        expect(gwBodies).toHaveLength(1)
        expect(Buffer.compare(gwBodies[0]!, Buffer.from(b))).toBe(0)
        expect(Buffer.compare(fuBodies[0]!, Buffer.from(b))).toBe(0)
      }
    })

    it('answers a bad body as the full decode does, and forwards nothing of it', async () => {
      const bad: Array<[string, Uint8Array]> = [
        ['no __name__', body(version, [[['instance', 'a']]])],
        ['a label name twice', body(version, [[['__name__', 'up'], ['a', '1'], ['a', '2']]])],
        ['a value that is not UTF-8', body(version, [[['__name__', 'up'], ['a', Uint8Array.from([0x61, 0xff])]]])],
        ['malformed protobuf', compressBody(Uint8Array.from([0x0a, 0x7f, 0x0a]))],
        ['not snappy', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00])]
      ]
      for (const [what, b] of bad) {
        const at = destination.requests.length
        const gw = await postWrite(gateway.url, b, { version })
        const fu = await postWrite(full.url, b, { version })
        expect(seen(gw), what).toEqual(seen(fu))
        expect(gw.status, what).toBeGreaterThanOrEqual(400) // 400, or 413 for what is not snappy
        // Nothing was queued: the next good body is the next request the destination gets.
        const next = body(version, [good])
        expect((await postWrite(gateway.url, next, { version })).status).toBe(204)
        await destination.waitForRequests(at + 1)
        expect(Buffer.compare(destination.requests[at]!.body, Buffer.from(next)), what).toBe(0)
      }
    })

    it('a body with a valid and an invalid series: the same 400, and the valid series forwarded the same', async () => {
      const b = body(version, [good, [['__name__', 'bad'], ['a', '1'], ['a', '2']]])
      const { gw, fu, gwBodies, fuBodies } = await both(version, b)
      expect(seen(gw)).toEqual(seen(fu))
      expect(gw.status).toBe(400)
      expect(gw.body).toContain('occurs more than once')
      expect(gwBodies.map(x => sampleKeys(x, version))).toEqual(fuBodies.map(x => sampleKeys(x, version)))
      expect(gwBodies.flatMap(x => sampleKeys(x, version))).toEqual([expect.stringContaining('up{')])
    })
  })

  it('keeps its series index empty, and counts what it received', async () => {
    const received = await sumOf(await scrapeMetrics(gateway.url), 'prom_ingest_received_samples_total')
    expect(received).toBeGreaterThan(0)
    // Partial requests were decoded again in full: only their valid series (up{instance="a",job="j"}) reached the index.
    expect(await sumOf(await scrapeMetrics(gateway.url), 'prom_ingest_series_known')).toBe(1)
    expect(await sumOf(await scrapeMetrics(full.url), 'prom_ingest_series_known')).toBeGreaterThan(1)
  })
})

describe('--forward-decode validate-only where series are needed', () => {
  afterEach(removeTempDirs)
  it.each([
    ['the discard sink', ['--sink', 'discard'], 'a sink other than forward'],
    ['shard mode', ['--sink', 'forward', '--forward-url', 'http://127.0.0.1:9/a', '--forward-url', 'http://127.0.0.1:9/b', '--forward-shard'], 'forward-shard'],
    ['HA deduplication', ['--sink', 'forward', '--forward-url', 'http://127.0.0.1:9/a', '--ha-dedup'], 'HA deduplication'],
    ['a per-tenant max-series', ['--sink', 'forward', '--forward-url', 'http://127.0.0.1:9/a', '--tenant-max-series', '10'], 'per-tenant max-series']
  ])('is refused at start-up with %s', async (_what, flags, reason) => {
    await expect(startInProcess([...flags, '--data-dir', tempDir(), '--forward-decode', 'validate-only'])).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining(reason) })
  })
})
