/**
 * Senders that stall or trickle, against `prom-ingest serve` as a real process, with raw sockets for
 * the slow senders: they must not stop the writes of everyone else (docs/security.md, "Slow senders").
 *
 * These tests depend on time by nature: the features under test are timeouts. The timeouts are kept
 * small through settings, and every assertion is on an answer or a metric, never on how long
 * something took; where a test needs a slow sender to still be slow while something else happens, the
 * timeout is several times longer than that something needs.
 */
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { parseExposition } from '../helpers/exposition.js'
import { RawConnection, writeHead, type RawAnswer } from '../helpers/raw-http.js'
import { postWrite } from '../helpers/remote-write.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { body1 } from '../receive/bodies.js'

let running: ServiceProcess[] = []
let sockets: RawConnection[] = []
afterEach(async () => {
  for (const s of sockets) s.close()
  sockets = []
  await Promise.all(running.map(p => p.stop('SIGKILL')))
  running = []
})

/** Settings go in the environment: a build without them ignores them, so the test fails on its answers. */
async function serve (env: Record<string, string>): Promise<ServiceProcess> {
  const p = await startServiceProcess([], { PROM_INGEST_SINK: 'discard', PROM_INGEST_THREADS: '1', ...env })
  running.push(p)
  return p
}

async function gauge (p: ServiceProcess, name: string): Promise<number> {
  const res = await request(`${p.url}/metrics`)
  return parseExposition(await res.body.text()).find(m => m.name === name)?.value ?? NaN
}

/** Polls /metrics every 50 ms until the gauge has the value (at most `timeoutMs`). */
async function untilGauge (p: ServiceProcess, name: string, value: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let v = await gauge(p, name)
  while (v !== value) {
    if (Date.now() > deadline) throw new Error(`${name} is ${v}, not ${value}, after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
    v = await gauge(p, name)
  }
}

async function open (p: ServiceProcess): Promise<RawConnection> {
  const c = await RawConnection.open(p.port)
  sockets.push(c)
  return c
}

/** A write that declares `length` body bytes and sends `first` of them (zeros: never decoded). */
async function stalled (p: ServiceProcess, length: number, first = 0): Promise<RawConnection> {
  const c = await open(p)
  c.write(writeHead({ 'Content-Length': String(length) }))
  if (first > 0) c.write(new Uint8Array(first))
  return c
}

function expectBodyTimeout (a: RawAnswer, reason: RegExp): void {
  expect(a.status).toBe(408)
  expect(a.headers['x-prom-ingest-error']).toBe('body_timeout')
  expect(a.headers.connection).toBe('close')
  expect(a.body).toMatch(reason)
}

describe('slow senders', () => {
  it('50 connections that stall after their headers, or send 1 byte/s, leave normal writes answered 204 within slot-wait; each gets 408', async () => {
    // Default slot-wait (2 s) and slots (8 + 2 with one thread). body-idle-timeout 6 s: the stalled
    // senders are still stalled while the normal writes run (those need well under a second).
    const p = await serve({ PROM_INGEST_BODY_IDLE_TIMEOUT: '6s' })
    const silent: RawConnection[] = []
    const trickling: RawConnection[] = []
    for (let i = 0; i < 25; i++) silent.push(await stalled(p, 100_000))
    for (let i = 0; i < 25; i++) trickling.push(await stalled(p, 100_000, 1))
    // One byte per second on each trickling connection, for at most 30 s.
    let ticks = 0
    const trickle = setInterval(() => {
      if (++ticks > 30) return clearInterval(trickle)
      for (const c of trickling) c.write(new Uint8Array(1))
    }, 1000)
    try {
      // Every one of the 50 is a request in progress.
      await untilGauge(p, 'prom_ingest_http_requests_in_flight', 50, 20_000)
      const answers: number[] = []
      for (let i = 0; i < 10; i++) answers.push((await postWrite(p.url, body1(20, 1, `normal${i}`))).status)
      expect(answers).toEqual(Array(10).fill(204))
      // The slow ones were all still waiting while the normal writes were answered.
      expect([...silent, ...trickling].filter(c => c.isClosed)).toHaveLength(0)

      // Then each slow one gets its 408 and its connection is closed.
      for (const c of silent) expectBodyTimeout(await c.answer(), /no byte of the body arrived for 6000 ms/)
      for (const c of trickling) expectBodyTimeout(await c.answer(), /slower than body-min-rate|no byte of the body arrived/)
      await Promise.all([...silent, ...trickling].map(c => c.closed))
    } finally {
      clearInterval(trickle)
    }
    expect(await gauge(p, 'prom_ingest_http_requests_in_flight')).toBe(0)
    expect(await gauge(p, 'prom_ingest_slots_in_use')).toBe(0)
    expect((await postWrite(p.url, body1(5))).status).toBe(204)
  }, 90_000)

  it('bodies that stall after their first bytes hold slots only for body-idle-timeout: a write waiting behind them is stored', async () => {
    // 2 slots, 4 stalled bodies that each took one (or wait for one), a write behind them; slot-wait
    // (10 s) is many times the time the stalled ones may hold a slot (0.5 to 1 s each).
    const p = await serve({ PROM_INGEST_SLOT_COUNT: '2', PROM_INGEST_LARGE_SLOT_COUNT: '0', PROM_INGEST_SLOT_WAIT: '10s', PROM_INGEST_BODY_IDLE_TIMEOUT: '500ms' })
    const stalledOnes: RawConnection[] = []
    // 20 KiB arrived: more than the first bytes a request needs to take a slot.
    for (let i = 0; i < 4; i++) stalledOnes.push(await stalled(p, 60_000, 20 * 1024))
    await untilGauge(p, 'prom_ingest_slots_in_use', 2, 20_000)
    const normal = await postWrite(p.url, body1(30, 1, 'behind'))
    expect(normal.status).toBe(204)
    for (const c of stalledOnes) expectBodyTimeout(await c.answer(), /no byte of the body arrived for 500 ms \(body-idle-timeout\); 20480 of 60000 bytes arrived/)
    expect(await gauge(p, 'prom_ingest_slots_in_use')).toBe(0)
    const text = await (await request(`${p.url}/metrics`)).body.text()
    expect(parseExposition(text).find(m => m.name === 'prom_ingest_rejected_requests_total' && m.labels.reason === 'body_timeout')?.value).toBe(4)
  }, 60_000)

  it('a body that keeps sending, but slower than body-min-rate, gets 408 after its first window', async () => {
    const p = await serve({ PROM_INGEST_BODY_IDLE_TIMEOUT: '500ms', PROM_INGEST_BODY_MIN_RATE: '64KiB' })
    const c = await stalled(p, 200_000, 20 * 1024)
    // 100 bytes every 100 ms (1,000 bytes/s): never idle for 500 ms, far below 64 KiB/s.
    let answer: RawAnswer | undefined
    const answered = c.answer().then(a => { answer = a })
    for (let i = 0; i < 100 && answer === undefined; i++) {
      c.write(new Uint8Array(100))
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await answered
    expectBodyTimeout(answer!, /the body arrived at \d+ bytes\/s over the last 500 ms, slower than body-min-rate \(65536 bytes\/s\)/)
    expect((await postWrite(p.url, body1(5))).status).toBe(204)
  }, 60_000)

  it('headers that do not arrive within headers-timeout get 408 and the connection closes; an idle kept-alive connection is not cut by it', async () => {
    const p = await serve({ PROM_INGEST_HEADERS_TIMEOUT: '1s' })
    const slow = await open(p)
    slow.write('POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const a = await slow.answer(20_000)
    expect(a.status).toBe(408)
    await slow.closed

    // A kept-alive connection idle for longer than headers-timeout (a wait by nature: 1.5 s) still works.
    const kept = await open(p)
    kept.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    expect((await kept.answer()).status).toBe(200)
    await new Promise(resolve => setTimeout(resolve, 1500))
    kept.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    expect((await kept.answer()).status).toBe(200)
  }, 60_000)
})
