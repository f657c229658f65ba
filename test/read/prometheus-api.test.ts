/**
 * The metadata API routes (src/read/prometheus-api.ts) on the real service with the DuckDB store:
 * a form body over the limit gets Prometheus' JSON error with 413, read whole by a sender that goes on
 * writing (the connection lingers, src/receive/lingering-close.ts). The answers themselves are
 * compared with Prometheus 2.42 in test/e2e/prometheus-api.test.ts.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Service } from '../../src/main.js'
import { writeThenRead } from '../helpers/refused-sender.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { ensureWorkerBuilt } from '../sinks/duckdb/helpers.js'

let service: Service
beforeAll(async () => {
  ensureWorkerBuilt()
  service = await startInProcess(['--sink', 'duckdb', '--data-dir', mkdtempSync(join(tmpdir(), 'prom-ingest-api-'))])
}, 120_000)
afterAll(async () => { await service?.close(10_000) })

const FORM = 'Content-Type: application/x-www-form-urlencoded'

describe('metadata API: a form body over the limit', () => {
  it('found while reading it (chunked): 413 bad_data, read whole by a sender that writes 4 MiB before reading', async () => {
    // Main left its `for await` over the request by throwing, which destroyed the socket before the answer.
    for (let i = 0; i < 5; i++) {
      const x = await writeThenRead(service.port, `POST /api/v1/labels HTTP/1.1\r\nHost: x\r\n${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n`, 4 << 20, true)
      expect(x.text).toMatch(/^HTTP\/1\.1 413 /)
      expect(x.text).toMatch(/\r\nX-Prom-Ingest-Error: body_too_large\r\n/i)
      expect(JSON.parse(x.text.slice(x.text.indexOf('\r\n\r\n') + 4))).toEqual({ status: 'error', errorType: 'bad_data', error: 'the form body is larger than 1048576 bytes' })
      expect(x.error).toBeUndefined()
    }
  })

  it('declared: 413 before reading, read whole', async () => {
    const x = await writeThenRead(service.port, `POST /api/v1/series HTTP/1.1\r\nHost: x\r\n${FORM}\r\nContent-Length: ${64 << 20}\r\n\r\n`, 4 << 20)
    expect(x.text).toMatch(/^HTTP\/1\.1 413 /)
    expect(x.text).toMatch(/"error":"the form body \(67108864 bytes\) is larger than 1048576 bytes"/)
    expect(x.error).toBeUndefined()
  })
})
