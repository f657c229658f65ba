import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { readLimitedBody } from '../../src/receive/limited-body.js'

let server: Server | undefined
afterEach(async () => { await new Promise<void>(resolve => server === undefined ? resolve() : server.close(() => resolve())); server = undefined })

/** Posts `chunks` (chunked when `declare` is false) to a server that reads the body with a limit of 10 bytes; what readLimitedBody gave. */
async function post (chunks: string[], declare: boolean): Promise<{ body?: string, code?: string, message?: string }> {
  let settle!: (r: { body?: string, code?: string, message?: string }) => void
  const result = new Promise<{ body?: string, code?: string, message?: string }>(resolve => { settle = resolve })
  server = createServer((req: IncomingMessage, res) => {
    readLimitedBody(req, 10, 'the test body').then(
      b => { settle({ body: b.toString('utf8') }); res.end() },
      (err: { code: string, message: string }) => { settle({ code: err.code, message: err.message }); res.statusCode = 413; res.setHeader('Connection', 'close'); res.end() }
    )
  })
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const total = chunks.join('').length
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: declare ? { 'content-length': String(total) } : {} })
  req.on('error', () => {}) // the server may close before the last chunk
  req.on('response', res => res.resume())
  for (const c of chunks) req.write(c)
  req.end()
  return await result
}

describe('readLimitedBody', () => {
  it('gives a body within the limit whole, in one or several chunks', async () => {
    expect(await post(['0123456789'], true)).toEqual({ body: '0123456789' })
    expect(await post(['01234', '56789'], false)).toEqual({ body: '0123456789' })
  })

  it('refuses a declared length over the limit before reading, naming it', async () => {
    expect(await post(['0123456789A'], true)).toEqual({ code: 'body_too_large', message: 'the test body (11 bytes) is larger than 10 bytes' })
  })

  it('refuses a chunked body once it passes the limit', async () => {
    expect(await post(['012345', '6789AB'], false)).toEqual({ code: 'body_too_large', message: 'the test body is larger than 10 bytes' })
  })
})
