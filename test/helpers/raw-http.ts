/**
 * A raw HTTP/1.1 connection over node:net, for tests that must control every byte a sender writes:
 * bodies that stall or trickle, repeated or non-ASCII headers, several requests on one kept-alive
 * connection. Answers are parsed just enough for the tests: status, headers, and a body framed by
 * Content-Length (or none).
 */
import { connect, type Socket } from 'node:net'

export interface RawAnswer {
  status: number
  /** Header names lower-case; a repeated header's values joined with ', '. */
  headers: Record<string, string>
  body: string
}

export class RawConnection {
  private received = Buffer.alloc(0)
  private waiter: (() => void) | undefined
  private closedFlag = false
  /** Resolves when the server has closed the connection (or it failed). */
  readonly closed: Promise<void>

  private constructor (readonly socket: Socket) {
    this.closed = new Promise(resolve => {
      socket.on('close', () => { this.closedFlag = true; this.waiter?.(); resolve() })
    })
    socket.on('data', (d: Buffer) => { this.received = Buffer.concat([this.received, d]); this.waiter?.() })
    // A reset after the server's answer is how a closed connection may end; the answer is already read.
    socket.on('error', () => {})
  }

  static open (port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host)
      socket.once('connect', () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  get isClosed (): boolean { return this.closedFlag }

  /** Some bytes of an answer have arrived. */
  get hasData (): boolean { return this.received.length > 0 }

  /** Writes bytes (a string is sent as latin1: one byte per character, so tests pick the exact bytes). */
  write (data: string | Uint8Array): void {
    if (this.closedFlag || this.socket.destroyed) return
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  }

  /**
   * The next answer on the connection. Rejects when the connection closes before a whole answer
   * arrived, or after `timeoutMs`.
   */
  async answer (timeoutMs = 30_000): Promise<RawAnswer> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const parsed = this.parse()
      if (parsed !== undefined) return parsed
      if (this.closedFlag) throw new Error(`the connection closed before a whole answer arrived (got ${JSON.stringify(this.received.toString('latin1'))})`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no whole answer within ${timeoutMs} ms (got ${JSON.stringify(this.received.toString('latin1'))})`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => { clearTimeout(timer); this.waiter = undefined; resolve() }
      })
    }
  }

  close (): void {
    this.socket.destroy()
  }

  private parse (): RawAnswer | undefined {
    const end = this.received.indexOf('\r\n\r\n')
    if (end < 0) return undefined
    const lines = this.received.subarray(0, end).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    const length = Number(headers['content-length'] ?? 0)
    if (this.received.length < end + 4 + length) return undefined
    const body = this.received.subarray(end + 4, end + 4 + length).toString('utf8')
    this.received = this.received.subarray(end + 4 + length)
    // 100 Continue is not an answer: skip it.
    if (status === 100) return this.parse()
    return { status, headers, body }
  }
}

/** The request line and headers of a write (1.0 headers unless replaced), ending with the blank line. */
export function writeHead (headers: Record<string, string | string[]> = {}, path = '/api/v1/write'): string {
  const all: Record<string, string | string[]> = {
    Host: '127.0.0.1',
    'Content-Type': 'application/x-protobuf',
    'Content-Encoding': 'snappy',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    ...headers
  }
  let head = `POST ${path} HTTP/1.1\r\n`
  for (const [name, value] of Object.entries(all)) {
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`
  }
  return head + '\r\n'
}
