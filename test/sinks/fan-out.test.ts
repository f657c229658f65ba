/**
 * Several sinks at once: borrowers see the batch before the owner may move its buffer, a request is
 * acknowledged only when every sink stored it, and the service wires `--sink duckdb,forward` so that a
 * 204 means the store committed it and the forward queue holds it (the destination then gets it).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import type { RowBatch } from '../../src/batch/row-batch.js'
import { decodeWriteRequest } from '../../src/decode/decode-write-request.js'
import { IngestError } from '../../src/errors.js'
import { FanOutSink } from '../../src/sinks/fan-out.js'
import type { ReceivedBody, Sink } from '../../src/sinks/sink.js'
import { startFaultDestination } from '../helpers/fault-destination.js'
import { postWrite } from '../helpers/remote-write.js'
import { startInProcess } from '../helpers/service-in-process.js'
import { body1 } from '../receive/bodies.js'

/** An owner that moves the batch's buffer away (as the DuckDB sink does to its writer thread). */
class MovingOwner implements Sink {
  readonly name = 'owner'
  readonly calls: string[]
  constructor (calls: string[]) { this.calls = calls }
  async start (): Promise<void> {}
  async write (batch: RowBatch): Promise<void> {
    this.calls.push('owner')
    structuredClone(batch.buffer, { transfer: [batch.buffer] })
  }
  ready (): boolean { return true }
  async close (): Promise<void> {}
}

/** A borrower that reads the batch during write and fails when told to. */
class Borrower implements Sink {
  readonly name = 'borrower'
  readonly batchUse = 'borrows' as const
  readonly wantsBody = true
  samples = -1
  body: ReceivedBody | undefined
  constructor (private readonly calls: string[], private readonly fail = false) {}
  async start (): Promise<void> {}
  write (batch: RowBatch, body?: ReceivedBody): Promise<void> {
    this.calls.push('borrower')
    this.samples = batch.timestamps.length
    this.body = body
    return this.fail ? Promise.reject(new IngestError('queue_full', 'full')) : Promise.resolve()
  }
  ready (): boolean { return true }
  async close (): Promise<void> {}
}

describe('fan-out of sinks', () => {
  it('calls borrowers before the owner, whatever the configured order', async () => {
    const calls: string[] = []
    const borrower = new Borrower(calls)
    const fan = new FanOutSink([new MovingOwner(calls), borrower])
    expect(fan.wantsBody).toBe(true)
    const batch = decodeWriteRequest(body1(3, 2))
    const body: ReceivedBody = { bytes: new Uint8Array([1, 2]), version: '1.0', tenant: '' }
    await fan.write(batch, body)
    expect(calls).toEqual(['borrower', 'owner'])
    expect(borrower.samples).toBe(6)
    expect(borrower.body).toBe(body)
    expect(batch.buffer.byteLength).toBe(0) // the owner moved it, after the borrower read it
  })

  it('fails the write when one sink fails, after every sink settled', async () => {
    const calls: string[] = []
    const fan = new FanOutSink([new Borrower(calls, true), new MovingOwner(calls)])
    await expect(fan.write(decodeWriteRequest(body1(1, 1)))).rejects.toMatchObject({ code: 'queue_full' })
    expect(calls).toEqual(['borrower', 'owner'])
  })

  it('stores nothing anywhere when a sink refuses in its check (a full forward queue)', async () => {
    const calls: string[] = []
    const checking = new Borrower(calls)
    Object.assign(checking, { check: () => { throw new IngestError('queue_full', 'full') } })
    const fan = new FanOutSink([new MovingOwner(calls), checking])
    await expect(fan.write(decodeWriteRequest(body1(1, 1)))).rejects.toMatchObject({ code: 'queue_full' })
    expect(calls).toEqual([])
  })

  it('refuses two sinks that both own the batch', () => {
    expect(() => new FanOutSink([new MovingOwner([]), new MovingOwner([])])).toThrow(/only one such sink/)
  })

  it('serves --sink duckdb,forward: stored in the store and forwarded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'prom-ingest-fanout-'))
    const dest = await startFaultDestination()
    const s = await startInProcess(['--sink', 'duckdb,forward', '--data-dir', dataDir, '--forward-url', dest.url])
    try {
      expect(s.sink.name).toBe('duckdb+forward')
      expect((await postWrite(s.url, body1(25, 2))).status).toBe(204)
      await dest.waitForAccepted(50)
      const res = await request(`${s.url}/api/v1/query?query=${encodeURIComponent('SELECT count(*) AS n FROM samples')}&format=csv`)
      expect(await res.body.text()).toMatch(/\b50\b/)
    } finally {
      expect(await s.close(10_000)).toBe(true)
      await dest.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
