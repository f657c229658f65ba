import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { CODES, IngestError, setSaturationStatus, type ErrorCode } from '../../src/errors.js'
import { sendError } from '../../src/receive/error-response.js'

let server: Server | undefined
afterEach(async () => {
  setSaturationStatus(503)
  await new Promise(resolve => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A loopback server that answers every request with `sendError` of the code in the path. */
async function answering (): Promise<string> {
  server = createServer((req, res) => {
    const code = (req.url ?? '/').slice(1) as ErrorCode
    sendError(res, new IngestError(code, `failed with ${code}`), { retryAfterSeconds: 7, authenticate: ['Bearer'] })
  })
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('sendError', () => {
  it('answers every code with the status of its IngestError, and Retry-After on every retryable one', async () => {
    const url = await answering()
    for (const code of Object.keys(CODES) as ErrorCode[]) {
      const res = await request(`${url}/${code}`)
      const text = await res.body.text()
      expect(res.statusCode, code).toBe(new IngestError(code, '').status)
      expect(res.headers['x-prom-ingest-error'], code).toBe(code)
      expect(res.headers['retry-after'], code).toBe(CODES[code].retryable ? '7' : undefined)
      expect(text).toBe(`failed with ${code}\n`)
    }
  })

  it('answers saturated with the configured saturation status, which IngestError.status agrees with', async () => {
    const url = await answering()
    setSaturationStatus(429)
    expect(new IngestError('saturated', '').status).toBe(429)
    const res = await request(`${url}/saturated`)
    await res.body.text()
    expect(res.statusCode).toBe(429)
    expect(res.headers['retry-after']).toBe('7')
    setSaturationStatus(503)
    const again = await request(`${url}/saturated`)
    await again.body.text()
    expect(again.statusCode).toBe(503)
  })
})
