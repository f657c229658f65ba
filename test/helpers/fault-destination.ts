/**
 * A small remote-write destination of our own, for the forwarder's tests: a real HTTP server on a free
 * loopback port that records every request (headers, body, arrival time) and answers what the test's
 * script says (status, headers). Bodies it answers 2xx for are decoded with our decoder and kept as
 * (series, timestamp) keys, so tests can compare what arrived with what was acknowledged.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { formatSeries } from '../../src/series/labels.js'

export interface Answer { status: number, headers?: Record<string, string>, body?: string }

export interface ReceivedRequest {
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
  readonly atMs: number
  readonly status: number
}

export interface FaultDestination {
  readonly url: string
  readonly requests: ReceivedRequest[]
  /** `series{labels} @ timestamp` of every sample in bodies answered 2xx, in arrival order. */
  readonly accepted: string[]
  /** The script: the answer to request number n (0-based); default 204. */
  answer: (n: number, req: IncomingMessage) => Answer
  /** Resolves once `count` requests have arrived (or rejects after timeoutMs). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>
  /** Resolves once `count` samples were accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** The (series, timestamp) keys of the samples in a compressed body. */
export function sampleKeys (body: Uint8Array, version: '1.0' | '2.0' = '1.0'): string[] {
  const b = decodeWriteRequest(body, { version, partial: true })
  const out: string[] = []
  for (let i = 0; i < b.sampleCount; i++) out.push(`${formatSeries(b.labelsOf(b.seriesIds[i]!)!)} @ ${b.timestamps[i]!}`)
  return out
}

export async function startFaultDestination (answer: (n: number, req: IncomingMessage) => Answer = () => ({ status: 204 })): Promise<FaultDestination> {
  const requests: ReceivedRequest[] = []
  const accepted: string[] = []
  let waiters: Array<() => void> = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const a = dest.answer(requests.length, req)
      requests.push({ headers: req.headers, body, atMs: Date.now(), status: a.status })
      if (a.status >= 200 && a.status < 300) {
        const v = String(req.headers['content-type'] ?? '').includes('v2') ? '2.0' : '1.0'
        accepted.push(...sampleKeys(body, v))
      }
      res.writeHead(a.status, a.headers ?? {})
      res.end(a.body ?? '')
      const w = waiters
      waiters = []
      for (const f of w) f()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const waitFor = async (done: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`fault destination: timed out waiting for ${what} (${requests.length} requests, ${accepted.length} samples so far)`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 200)
        waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }
  const dest: FaultDestination = {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    requests,
    accepted,
    answer,
    waitForRequests: (count, timeoutMs = 30_000) => waitFor(() => requests.length >= count, `${count} requests`, timeoutMs),
    waitForAccepted: (count, timeoutMs = 30_000) => waitFor(() => accepted.length >= count, `${count} samples`, timeoutMs),
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
  return dest
}
