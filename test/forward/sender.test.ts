/**
 * The destination sender on its own (src/forward/sender.ts): a real queue in a temp directory, a real
 * HTTP destination on loopback (test/helpers/fault-destination.ts), and the logger's lines collected.
 * What the low-level HTTP path (undici's dispatch with the sender's handler) must keep: the answer's body
 * as the logged reason of a drop, the tenant header replacing a configured header of the same name,
 * and a close that does not wait for a destination that never answers.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FiguresRelay } from '../../src/forward/figures-relay.js'
import type { Destination } from '../../src/forward/destinations.js'
import { ALL_DESTINATIONS, recordHeader } from '../../src/forward/record.js'
import { DestinationSender } from '../../src/forward/sender.js'
import { DurableLog } from '../../src/queue/durable-log.js'
import { startFaultDestination, type FaultDestination } from '../helpers/fault-destination.js'
import { body1 } from '../receive/bodies.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Logged { level: string, obj: Record<string, unknown>, msg: string }

async function setup (dest: FaultDestination, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ log: DurableLog, sender: DestinationSender, logged: Logged[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-sender-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const log = await DurableLog.open({ dir })
  cleanups.push(async () => { await log.close() })
  const url = new URL(dest.url)
  const destination: Destination = { name: 'd', origin: url.origin, path: url.pathname, headers, protocol: undefined, timeoutMs, maxInFlight: 1, queueLimitBytes: 1 << 30 }
  const logged: Logged[] = []
  const at = (level: string) => (obj: object, msg: string): void => { logged.push({ level, obj: obj as Record<string, unknown>, msg }) }
  const sender = new DestinationSender({
    destination,
    index: 0,
    cursor: log.cursor('d'),
    figures: new FiguresRelay('d', () => {}),
    backoff: { minMs: 20, maxMs: 200 },
    tenantHeader: 'x-scope-orgid',
    logger: { info: at('info'), warn: at('warn'), error: at('error') }
  })
  cleanups.push(async () => { await sender.close() })
  return { log, sender, logged }
}

async function append (log: DurableLog, tenant: string, job: string): Promise<void> {
  const body = body1(2, 1, job)
  await log.append([recordHeader({ version: '1.0', target: ALL_DESTINATIONS, samples: 2, histograms: 0, exemplars: 0, tenant }), body])
}

describe('DestinationSender', () => {
  it('logs the start of the answer\'s body as the reason when the destination refuses a record for good', async () => {
    const dest = await startFaultDestination(n => n === 0 ? { status: 400, body: 'out of order sample: series x' } : { status: 204 })
    cleanups.push(() => dest.close())
    const { log, sender, logged } = await setup(dest)
    await append(log, '', 'first')
    await append(log, '', 'second')
    sender.start()
    await dest.waitForAccepted(2)
    expect(dest.accepted.every(k => k.includes('job="second"'))).toBe(true)
    const drop = logged.find(l => l.msg.startsWith('forward request dropped'))
    expect(drop?.obj.status).toBe('400')
    expect(drop?.obj.reason).toBe('out of order sample: series x')
  })

  it('sends the record\'s tenant in place of a configured header of the same name, once', async () => {
    const dest = await startFaultDestination()
    cleanups.push(() => dest.close())
    const { log, sender } = await setup(dest, { 'x-scope-orgid': 'configured', 'x-extra': 'kept' })
    await append(log, 'tenant-a', 'a')
    await append(log, '', 'none')
    sender.start()
    await dest.waitForRequests(2)
    expect(dest.requests[0]!.headers['x-scope-orgid']).toBe('tenant-a')
    expect(dest.requests[0]!.headers['x-extra']).toBe('kept')
    // A record without a tenant keeps the configured header.
    expect(dest.requests[1]!.headers['x-scope-orgid']).toBe('configured')
  })

  it('closes at once while a destination holds a request unanswered; the record stays in the queue', async () => {
    // A destination that reads the request and never answers (the sender's timeout is far beyond the test's).
    let arrived = (): void => {}
    const held = new Promise<void>(resolve => { arrived = resolve })
    const server = createServer(req => { req.resume(); req.on('end', () => arrived()) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`
    const { log, sender } = await setup({ url } as FaultDestination, {}, 600_000)
    await append(log, '', 'held')
    sender.start()
    await held
    await sender.close()
    expect(log.cursor('d').position).toBe(0)
  })
})
