/**
 * Answers given before a write's body is read (401, 415, 503), against `prom-ingest serve` as a real
 * process over raw sockets: a small unread body is read and dropped so that the connection stays
 * usable for the sender's next request; a large one closes the connection. And the 503 for a full
 * service names its wait in whole milliseconds.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { RawConnection, writeHead } from '../helpers/raw-http.js'
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

async function serve (args: string[] = [], env: Record<string, string> = {}): Promise<ServiceProcess> {
  const p = await startServiceProcess(args, { PROM_INGEST_SINK: 'discard', PROM_INGEST_THREADS: '1', ...env })
  running.push(p)
  return p
}

async function open (p: ServiceProcess): Promise<RawConnection> {
  const c = await RawConnection.open(p.port)
  sockets.push(c)
  return c
}

describe('answers before the body is read', () => {
  it('401 and 415 keep the connection: the next request on it is answered', async () => {
    const p = await serve(['--auth-bearer-token', 'tok'])
    const c = await open(p)
    const body = body1(200)

    c.write(writeHead({ 'Content-Length': String(body.length) }))
    c.write(body)
    const unauthorized = await c.answer()
    expect(unauthorized.status).toBe(401)
    expect(unauthorized.headers.connection).toBe('keep-alive')

    c.write(writeHead({ 'Content-Length': String(body.length), Authorization: 'Bearer tok', 'Content-Type': 'application/json' }))
    c.write(body)
    const unsupported = await c.answer()
    expect(unsupported.status).toBe(415)
    expect(unsupported.headers.connection).toBe('keep-alive')

    c.write(writeHead({ 'Content-Length': String(body.length), Authorization: 'Bearer tok' }))
    c.write(body)
    expect((await c.answer()).status).toBe(204)
    expect(c.isClosed).toBe(false)
  })

  it('a refused request whose large body is left unread closes the connection', async () => {
    const p = await serve(['--auth-bearer-token', 'tok'])
    const c = await open(p)
    // 2 MiB declared (within max-body-bytes, above what is drained): none of it is sent.
    c.write(writeHead({ 'Content-Length': String(2 * 1024 * 1024) }))
    const a = await c.answer()
    expect(a.status).toBe(401)
    expect(a.headers.connection).toBe('close')
    await c.closed
  })

  it('503 when no slot frees within slot-wait names the wait in whole milliseconds', async () => {
    // The holder's body stays incomplete for the whole test: body-idle-timeout out of the way.
    const p = await serve(['--slot-count', '1', '--large-slot-count', '0', '--slot-wait', '250ms'], { PROM_INGEST_BODY_IDLE_TIMEOUT: '1m' })
    // Hold the only slot: a body whose first 20 KiB arrived (enough to take a slot), the rest not yet.
    const holder = await open(p)
    holder.write(writeHead({ 'Content-Length': String(100_000) }))
    holder.write(new Uint8Array(20 * 1024))
    let refused = await postWrite(p.url, body1(5))
    // The holder may not have its slot yet when the write arrives: then the write takes it (bounded).
    for (let i = 0; i < 50 && refused.status === 204; i++) refused = await postWrite(p.url, body1(5))
    expect(refused.status).toBe(503)
    expect(refused.headers['x-prom-ingest-error']).toBe('saturated')
    expect(refused.body).toMatch(/within 250 ms/)
  })
})
