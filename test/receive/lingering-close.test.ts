/**
 * The lingering close (src/receive/lingering-close.ts) against the service started in-process on a
 * loopback port, with raw node:net senders that go on writing a refused body: the sender reads the
 * whole 413 (a reset before it read it would discard it), the service ends the connection even when
 * the sender never stops, no slot is held meanwhile, and shutdown ends lingering connections at once.
 * And undici, a client that reads while it writes, against the service as its own process.
 *
 * Time: the service lingers at most LINGER_MAX_MS (1 s). A sender that writes its body before it reads
 * (writeThenRead) must be done writing within that bound, so its body is a few MiB on loopback.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { Service } from '../../src/main.js'
import { isLingering } from '../../src/receive/lingering-close.js'
import { writeHead } from '../helpers/raw-http.js'
import { writeForever, writeThenRead, type RefusedExchange } from '../helpers/refused-sender.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { startServiceProcess } from '../helpers/service-process.js'

let services: Service[] = []
afterEach(async () => {
  await Promise.all(services.map(s => s.close(5000)))
  services = []
})

const LIMIT = 1 << 20
const BODY = 4 << 20

async function start (): Promise<Service> {
  const s = await startInProcess(['--max-body-bytes', String(LIMIT)])
  services.push(s)
  return s
}

/** The service's side of each connection it accepts from now on, in order. */
function serverSockets (s: Service): Socket[] {
  const sockets: Socket[] = []
  s.server.server.on('connection', (socket: Socket) => { sockets.push(socket) })
  return sockets
}

function expect413 (x: RefusedExchange, reason: RegExp): void {
  expect(x.text).toMatch(/^HTTP\/1\.1 413 /)
  expect(x.text).toMatch(/\r\nConnection: close\r\n/i)
  expect(x.text).toMatch(/\r\nX-Prom-Ingest-Error: body_too_large\r\n/i)
  // The whole answer: its one line of reason, as long as Content-Length says.
  const length = Number(/\r\nContent-Length: (\d+)\r\n/i.exec(x.text)?.[1])
  const body = x.text.slice(x.text.indexOf('\r\n\r\n') + 4)
  expect(Buffer.byteLength(body, 'latin1')).toBe(length)
  expect(body).toMatch(reason)
}

describe('a refused body: the sender reads the answer', () => {
  it('a sender that writes a declared body far over the limit before reading gets the whole 413, 20 times of 20', async () => {
    const s = await start()
    const head = writeHead({ 'Content-Length': String(64 << 20) })
    for (let i = 0; i < 20; i++) {
      const x = await writeThenRead(s.port, head, BODY)
      expect413(x, /the body is 67108864 bytes \(Content-Length\), more than the limit of 1048576/)
      // Not reset while it wrote: every byte of the body went out.
      expect(x.error).toBeUndefined()
      expect(x.written).toBe(BODY)
    }
    expect(s.pool.stats().slotsInUse).toBe(0)
    // The service goes on answering on new connections.
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
  })

  it('a chunked body found over the limit while streaming: the whole 413, 20 times of 20', async () => {
    const s = await start()
    const head = writeHead({ 'Transfer-Encoding': 'chunked' })
    for (let i = 0; i < 20; i++) {
      const x = await writeThenRead(s.port, head, BODY, true)
      expect413(x, /more than the limit of 1048576 bytes \(found while reading it\)/)
      expect(x.error).toBeUndefined()
    }
    expect(s.pool.stats().slotsInUse).toBe(0)
  })
})

describe('a refused body, the service as its own process', () => {
  it('undici posting an 8 MiB body to a 1 MiB limit gets the 413, 20 times of 20 (main: EPIPE in about 7 of 20)', async () => {
    // Its own process: in one event loop undici reads the answer before it sees its write fail.
    const p = await startServiceProcess(['--sink', 'discard', '--threads', '1', '--max-body-bytes', String(LIMIT)])
    try {
      const body = Buffer.alloc(8 << 20, 0x61)
      const outcomes: string[] = []
      for (let i = 0; i < 20; i++) {
        try {
          const res = await request(`${p.url}/api/v1/write`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } })
          outcomes.push(`${res.statusCode} ${res.headers['x-prom-ingest-error'] as string} ${(await res.body.text()).trim()}`)
        } catch (err) {
          outcomes.push((err as NodeJS.ErrnoException).code ?? String(err))
        }
      }
      expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413 body_too_large the body is 8388608 bytes (Content-Length), more than the limit of 1048576'))
    } finally {
      await p.stop('SIGKILL')
    }
  }, 60_000)
})

describe('a refused body: the service ends the connection', () => {
  it('closes the connection of a sender that never stops writing (trickling, never quiet), after the answer, holding no slot', async () => {
    const s = await start()
    let slotsWhileLingering = -1
    const x = await writeForever(s.port, writeHead({ 'Transfer-Encoding': 'chunked' }), {
      chunked: true,
      onAnswer: () => { slotsWhileLingering = s.pool.stats().slotsInUse }
    })
    // The service closed it (the sender would have gone on for 20,000 chunks, about 100 s).
    expect(x.gaveUp).toBe(false)
    expect(x.writtenAfterAnswer).toBeGreaterThan(0)
    expect413(x, /found while reading it/)
    // The dropped rest of the body went into no slot.
    expect(slotsWhileLingering).toBe(0)
  }, 60_000)

  it('the same for a declared body over the limit', async () => {
    const s = await start()
    const x = await writeForever(s.port, writeHead({ 'Content-Length': String(1 << 30) }))
    expect(x.gaveUp).toBe(false)
    expect(x.writtenAfterAnswer).toBeGreaterThan(0)
    expect413(x, /more than the limit of 1048576/)
  }, 60_000)

  it('shutdown (beginShutdown, then closeAllConnections) ends lingering connections at once', async () => {
    const s = await start()
    const sockets = serverSockets(s)
    const head = writeHead({ 'Content-Length': String(1 << 30) })
    const answered = [new Deferred(), new Deferred()]
    const senders = answered.map(a => writeForever(s.port, head, { onAnswer: a.resolve }))
    await Promise.all(answered.map(a => a.promise))
    expect(sockets).toHaveLength(2)
    // Lingering starts once the answer is flushed: the service's write side has finished then.
    for (const socket of sockets) if (!socket.writableFinished) await once(socket, 'finish')
    expect(sockets.map(socket => isLingering(socket))).toEqual([true, true])
    expect(sockets.map(socket => socket.destroyed)).toEqual([false, false])

    s.server.beginShutdown()
    // At once: destroyed within the call, not at the end of the lingering time.
    expect(sockets.map(socket => socket.destroyed)).toEqual([true, true])
    for (const x of await Promise.all(senders)) {
      expect(x.gaveUp).toBe(false)
      expect413(x, /more than the limit/)
    }
  }, 60_000)

  it('closeAllConnections ends a lingering connection at once', async () => {
    const s = await start()
    const sockets = serverSockets(s)
    const answered = new Deferred()
    const sender = writeForever(s.port, writeHead({ 'Content-Length': String(1 << 30) }), { onAnswer: answered.resolve })
    await answered.promise
    const socket = sockets[0]!
    if (!socket.writableFinished) await once(socket, 'finish')
    expect(isLingering(socket)).toBe(true)
    s.server.destroyConnections()
    expect(socket.destroyed).toBe(true)
    expect((await sender).gaveUp).toBe(false)
  }, 60_000)
})

class Deferred {
  resolve!: () => void
  readonly promise = new Promise<void>(resolve => { this.resolve = resolve })
}
