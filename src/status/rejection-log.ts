/**
 * The last rejected write requests, for the status page: a ring of `capacity` entries (50) fed by
 * src/receive/error-response.ts, the one place an error becomes an answer (ErrorAnswerPolicy.onAnswer).
 * Only answers on the write path are kept. Tenant and message are sender data: they are kept as text,
 * cut to a bounded length, and the page shows them with textContent only.
 */
import type { ServerResponse } from 'node:http'
import type { IngestError } from '../errors.js'

export interface Rejection {
  /** ms since the epoch. */
  readonly time: number
  readonly tenant: string
  readonly status: number
  readonly code: string
  readonly message: string
}

const WRITE_PATH = '/api/v1/write'
const MAX_TENANT_CHARS = 150
const MAX_MESSAGE_CHARS = 1024

export class RejectionLog {
  private readonly ring: Rejection[] = []
  private next = 0
  /** Rejections recorded since start (the ring keeps the last `capacity`). */
  total = 0

  /** `tenantHeader` lower-case, '' when tenants are off. */
  constructor (private readonly tenantHeader: string, readonly capacity = 50) {}

  /** Records the error answer `res` got, when it answers a write request. */
  record (res: ServerResponse, err: IngestError, status: number): void {
    const req = res.req as ServerResponse['req'] | undefined
    const url = req?.url ?? ''
    if (url !== WRITE_PATH && !url.startsWith(WRITE_PATH + '?')) return
    const raw = this.tenantHeader === '' ? undefined : req?.headers[this.tenantHeader]
    const tenant = Array.isArray(raw) ? raw.join(', ') : (raw ?? '')
    const entry: Rejection = {
      time: Date.now(),
      tenant: cut(tenant, MAX_TENANT_CHARS),
      status,
      code: err.code,
      message: cut(err.message, MAX_MESSAGE_CHARS)
    }
    if (this.ring.length < this.capacity) this.ring.push(entry)
    else this.ring[this.next] = entry
    this.next = (this.next + 1) % this.capacity
    this.total++
  }

  /** Newest first. */
  list (): Rejection[] {
    const out: Rejection[] = []
    for (let k = 1; k <= this.ring.length; k++) out.push(this.ring[(this.next - k + this.capacity) % this.capacity]!)
    return out
  }
}

function cut (s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 3) + '...' : s
}
