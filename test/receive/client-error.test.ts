/**
 * The answers to requests Node's own HTTP parser refuses (src/receive/client-error.ts), against the
 * service started in-process on a loopback port, over raw node:net connections: the service's code
 * and reason instead of Node's bare 431/400/408, read by a sender still sending (the connection
 * lingers, lingering-close.ts), then the connection closes and the service serves the next ones.
 *
 * Time: the service lingers at most LINGER_MAX_MS (1 s). A sender that writes before it reads
 * (writeThenRead) must be done writing within that bound, so it writes 8 MiB on loopback: more than
 * the loopback buffers hold (about 4 MiB here), so that without the lingering answer the sender reads
 * a reset and no answer (Node's bare 431 is lost: ECONNRESET 5 times of 5 without client-error.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { maxHeaderSize } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Service } from '../../src/main.js'
import { parseExposition } from '../helpers/exposition.js'
import { RawConnection } from '../helpers/raw-http.js'
import { writeForever, writeThenRead, type RefusedExchange } from '../helpers/refused-sender.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { body1 } from './bodies.js'

let services: Service[] = []
let dirs: string[] = []
afterEach(async () => {
  await Promise.all(services.map(s => s.close(5000)))
  services = []
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  dirs = []
})

async function start (flags: string[] = []): Promise<Service> {
  const s = await startInProcess(flags)
  services.push(s)
  return s
}

/** A write's head whose last header never ends: every byte written after it is that header's value. */
const OPEN_HEADER = 'POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nX-Padding: '

/** Header bytes a sender writes before it reads. */
const HEADER_BYTES = 8 << 20

/** The one answer in `x`: status line, headers lower-case, and the body as long as Content-Length says. */
function answerOf (x: RefusedExchange): { statusLine: string, headers: Record<string, string>, body: string } {
  const end = x.text.indexOf('\r\n\r\n')
  expect(end).toBeGreaterThan(0)
  const [statusLine, ...lines] = x.text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
  const body = x.text.slice(end + 4)
  expect(Buffer.byteLength(body, 'latin1')).toBe(Number(headers['content-length']))
  return { statusLine: statusLine!, headers, body }
}

/** The service's count of answers to requests that reached no route, by status. */
async function otherAnswers (s: Service, status: number): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  const sample = parseExposition(text).find(m => m.name === 'prom_ingest_http_requests_total' && m.labels.path === 'other' && m.labels.code === String(status))
  return sample?.value ?? 0
}

describe('headers larger than the max header size', () => {
  it('a sender that writes 8 MiB of header before reading gets the whole 431 with its code and the limit, 5 times of 5', async () => {
    const s = await start()
    for (let i = 0; i < 5; i++) {
      const x = await writeThenRead(s.port, OPEN_HEADER, HEADER_BYTES)
      // Not reset while it wrote: every byte went out, and the answer was still there to read.
      expect(x.error).toBeUndefined()
      expect(x.written).toBe(HEADER_BYTES)
      const a = answerOf(x)
      expect(a.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large')
      expect(a.headers.connection).toBe('close')
      expect(a.headers['x-prom-ingest-error']).toBe('headers_too_large')
      expect(a.headers['content-type']).toBe('text/plain; charset=utf-8')
      expect(a.body).toBe(`the request line and headers are larger than the limit of ${maxHeaderSize} bytes (Node's max header size, --max-http-header-size)\n`)
    }
    expect(await otherAnswers(s, 431)).toBe(5)
  }, 60_000)

  it('a sender that reads while it keeps sending gets the 431 before the connection closes, and the service closes it', async () => {
    const s = await start()
    const x = await writeForever(s.port, OPEN_HEADER)
    // The answer arrived while the sender was still writing, and the service ended the connection
    // (the sender would have gone on for 20,000 chunks).
    expect(x.writtenAfterAnswer).toBeGreaterThan(0)
    expect(x.gaveUp).toBe(false)
    const a = answerOf(x)
    expect(a.statusLine).toMatch(/^HTTP\/1\.1 431 /)
    expect(a.headers['x-prom-ingest-error']).toBe('headers_too_large')
    expect(a.body).toMatch(new RegExp(`limit of ${maxHeaderSize} bytes`))
  }, 60_000)
})

describe('a malformed request', () => {
  it('a malformed request line gets 400 request_malformed with the parser\'s reason; the connection closes; the next write gets its 204', async () => {
    const s = await start()
    const c = await RawConnection.open(s.port)
    c.write('G@T /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const a = await c.answer()
    expect(a.status).toBe(400)
    expect(a.headers.connection).toBe('close')
    expect(a.headers['x-prom-ingest-error']).toBe('request_malformed')
    expect(a.body).toBe('the request is not valid HTTP/1.1: Invalid method encountered (HPE_INVALID_METHOD)\n')
    // The service closes the connection after the answer (the sender sends nothing more).
    await c.closed
    expect(await otherAnswers(s, 400)).toBe(1)
    // Other connections are served.
    expect((await postWrite(s.url, body1(3))).status).toBe(204)
  })

  it('a bad chunk size in a write\'s body gets 400 request_malformed, listed with the rejected writes, holding no slot once closed; the next write gets its 204', async () => {
    const s = await start()
    const c = await RawConnection.open(s.port)
    c.write('POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz\r\n')
    const a = await c.answer()
    expect(a.status).toBe(400)
    expect(a.headers['x-prom-ingest-error']).toBe('request_malformed')
    expect(a.body).toMatch(/^the request is not valid HTTP\/1\.1: .* \(HPE_INVALID_CHUNK_SIZE\)\n$/)
    await c.closed
    expect((await postWrite(s.url, body1(3))).status).toBe(204)
    expect(s.pool.stats().slotsInUse).toBe(0)
    // A refused write is on the status page's list of rejected writes, as a route's refusal is.
    const rejected = await (await fetch(`${s.url}/api/v1/status/rejected`)).json() as { data: { total: number, requests: Array<{ status: number, code: string, message: string }> } }
    expect(rejected.data.total).toBe(1)
    expect(rejected.data.requests[0]).toMatchObject({ status: 400, code: 'request_malformed' })
    expect(rejected.data.requests[0]!.message).toMatch(/HPE_INVALID_CHUNK_SIZE/)
  })
})

describe('chunk extensions over Node\'s limit', () => {
  it('a write whose chunk extensions are 17,000 bytes gets 413 chunk_extensions_too_large naming the limit', async () => {
    const s = await start()
    const c = await RawConnection.open(s.port)
    c.write(`POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nTransfer-Encoding: chunked\r\n\r\n4;a=${'b'.repeat(17_000)}\r\nabcd\r\n`)
    const a = await c.answer()
    expect(a.status).toBe(413)
    expect(a.headers['x-prom-ingest-error']).toBe('chunk_extensions_too_large')
    expect(a.body).toBe('the chunk extensions of the body are larger than Node\'s limit of 16384 bytes\n')
    await c.closed
  })
})

describe('headers that do not arrive in time', () => {
  it('a request whose headers stop half-way gets 408 headers_timeout naming headers-timeout, and the connection closes', async () => {
    // Depends on time: the feature is a timeout. 200 ms of headers-timeout (checked every 100 ms).
    const s = await start(['--headers-timeout', '200ms'])
    const c = await RawConnection.open(s.port)
    c.write('POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const a = await c.answer()
    expect(a.status).toBe(408)
    expect(a.headers['x-prom-ingest-error']).toBe('headers_timeout')
    expect(a.body).toBe('the request\'s headers did not arrive whole within 200 ms (headers-timeout)\n')
    await c.closed
    expect((await postWrite(s.url, body1(3))).status).toBe(204)
  })
})

describe('a request that does not arrive whole within Node\'s request timeout', () => {
  it('a remote-read body trickling a byte every 200 ms gets 408 request_timeout naming the derived limit, and the connection closes', async () => {
    // Depends on time: the feature is a timeout. Node's requestTimeout here is headers-timeout 200 ms +
    // 2 x slot-wait 0 + 2 x body-idle-timeout 100 ms + max-body-bytes / body-min-rate 1 s = 1,400 ms
    // (server.ts, nodeTimeouts). The read route waits for its whole body and does not watch its pace,
    // so only Node's timeout ends this one.
    const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-client-error-'))
    dirs.push(dir)
    const s = await start(['--sink', 'duckdb', '--data-dir', dir, '--headers-timeout', '200ms', '--slot-wait', '0', '--body-idle-timeout', '100ms', '--max-body-bytes', '4096', '--body-min-rate', '4096'])
    const c = await RawConnection.open(s.port)
    c.write('POST /api/v1/read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: 1000\r\n\r\n')
    const answer = c.answer(20_000)
    // At most 50 bytes (10 s), far fewer than the 1,000 announced: the body never ends by itself.
    for (let i = 0; i < 50 && !c.isClosed && !c.hasData; i++) {
      c.write('x')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    const a = await answer
    expect(a.status).toBe(408)
    expect(a.headers['x-prom-ingest-error']).toBe('request_timeout')
    expect(a.body).toBe('the request did not arrive whole within 1400 ms (Node\'s requestTimeout, derived from headers-timeout, slot-wait, body-idle-timeout, max-body-bytes and body-min-rate)\n')
    await c.closed
    expect((await postWrite(s.url, body1(3))).status).toBe(204)
  }, 30_000)
})
