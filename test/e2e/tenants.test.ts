/**
 * The tenant header against `prom-ingest serve` as a real process, over raw sockets so that the test
 * picks the exact header bytes (UTF-8, repeated headers): tenants are checked with Mimir's rule, and
 * anything else is refused with 400 tenant_invalid rather than stored garbled or joined.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { RawConnection, writeHead, type RawAnswer } from '../helpers/raw-http.js'
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

async function serve (args: string[] = []): Promise<ServiceProcess> {
  const p = await startServiceProcess(args, { PROM_INGEST_SINK: 'discard', PROM_INGEST_THREADS: '1' })
  running.push(p)
  return p
}

/** One write on a kept-alive connection with the given tenant header values (latin1: one byte per character). */
async function write (c: RawConnection, tenants: string[]): Promise<RawAnswer> {
  const body = body1(3)
  c.write(writeHead({ 'Content-Length': String(body.length), ...(tenants.length > 0 ? { 'X-Scope-OrgID': tenants } : {}) }))
  c.write(body)
  return c.answer()
}

/** A UTF-8 string as the latin1 characters of its bytes, as a sender puts it on the wire. */
function utf8Bytes (s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1')
}

describe('tenants', () => {
  it('takes tenants of up to 150 characters of a-z A-Z 0-9 ! - _ . * \' ( ), one header, or none', async () => {
    const p = await serve()
    const c = await RawConnection.open(p.port)
    sockets.push(c)
    for (const tenants of [[], ['team-a'], ["Aa0!-_.*'()"], ['x'.repeat(150)], ['...']]) {
      const a = await write(c, tenants)
      expect(a.status, JSON.stringify(tenants)).toBe(204)
    }
  })

  it('refuses a UTF-8, too long, empty, "." or "..", comma-joined or repeated tenant with 400 tenant_invalid and the reason; the connection stays usable', async () => {
    const p = await serve()
    const c = await RawConnection.open(p.port)
    sockets.push(c)
    const cases: Array<[string[], RegExp]> = [
      [[utf8Bytes('tenant-é')], /has byte 0xc3 at position 7/],
      [['x'.repeat(151)], /is 151 characters long, more than 150/],
      [[''], /is empty/],
      [['.'], /is '\.'/],
      [['..'], /is '\.\.'/],
      [['a, b'], /has ',' at position 1/],
      [['a', 'b'], /occurs 2 times; send one tenant/],
      [['a', 'a'], /occurs 2 times/],
      [['team a'], /has byte 0x20 at position 4/],
      [['team/a'], /has '\/' at position 4/]
    ]
    for (const [tenants, reason] of cases) {
      const a = await write(c, tenants)
      expect(a.status, JSON.stringify(tenants)).toBe(400)
      expect(a.headers['x-prom-ingest-error']).toBe('tenant_invalid')
      expect(a.body).toMatch(reason)
      expect(a.headers.connection).not.toBe('close')
    }
    // The same connection still writes.
    expect((await write(c, ['team-a'])).status).toBe(204)
    const metrics = await fetch(`${p.url}/metrics`).then(async r => r.text())
    expect(metrics).toMatch(new RegExp(`prom_ingest_rejected_requests_total\\{reason="tenant_invalid"\\} ${cases.length}\\b`))
  })

  it('ignores the header when tenants are disabled', async () => {
    const p = await serve(['--tenant-header', ''])
    const c = await RawConnection.open(p.port)
    sockets.push(c)
    expect((await write(c, ['a', 'b'])).status).toBe(204)
    expect((await write(c, [utf8Bytes('tenant-é')])).status).toBe(204)
  })
})
