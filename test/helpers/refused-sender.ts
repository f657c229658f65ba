/**
 * Senders that go on writing a request body after the service refused it, over raw node:net
 * connections: what a remote-write client does when it is answered 413 in the middle of its body.
 * Used by the lingering-close tests (src/receive/lingering-close.ts): the sender must read the whole
 * answer, and the service must end the connection even when the sender never stops.
 */
import { connect, type Socket } from 'node:net'

/** Body bytes per write. */
const CHUNK_BYTES = 64 << 10

export interface RefusedExchange {
  /** Everything the service sent, as latin1. */
  readonly text: string
  /** Body bytes the sender wrote (chunk framing not counted). */
  readonly written: number
  /** The sender's socket error (EPIPE, ECONNRESET), if it had one. */
  readonly error: string | undefined
}

/** One chunk of body: `bytes` as they go on the wire, chunk-framed when `chunked`. */
function frame (chunk: Buffer, chunked: boolean): Buffer {
  return chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n', 'latin1')]) : chunk
}

/** Resolves on 'drain', or once the socket closed. */
async function drained (socket: Socket): Promise<void> {
  if (socket.destroyed) return
  await new Promise<void>(resolve => {
    const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve() }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

function collect (socket: Socket): { text: () => string, error: () => string | undefined, closed: Promise<void> } {
  const parts: Buffer[] = []
  let error: string | undefined
  socket.on('data', (b: Buffer) => { parts.push(b) })
  socket.on('error', (err: NodeJS.ErrnoException) => { error ??= err.code ?? err.message })
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  return { text: () => Buffer.concat(parts).toString('latin1'), error: () => error, closed }
}

/** Waits for the connection, writes the request's head; the body chunk to write after it. */
async function sendHead (socket: Socket, head: string, chunked: boolean): Promise<Buffer> {
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write(head, 'latin1')
  return frame(Buffer.alloc(CHUNK_BYTES, 0x61), chunked)
}

/**
 * Sends `head`, then `bodyBytes` of body without reading anything (the socket is paused, so the
 * answer waits in the kernel, where a reset would discard it), each write after the last one drained;
 * then reads what the service sent until the connection closes.
 */
export async function writeThenRead (port: number, head: string, bodyBytes: number, chunked = false): Promise<RefusedExchange> {
  const socket = connect(port, '127.0.0.1')
  socket.pause()
  const seen = collect(socket)
  const chunk = await sendHead(socket, head, chunked)
  let written = 0
  while (written < bodyBytes && !socket.destroyed) {
    const more = socket.write(chunk)
    written += CHUNK_BYTES
    if (!more) await drained(socket)
  }
  socket.resume()
  // A sender whose side stays open has nothing more to say once it has the answer: it closes after the service's FIN.
  await seen.closed
  return { text: seen.text(), written, error: seen.error() }
}

export interface EndlessExchange extends RefusedExchange {
  /** Body bytes written after the first byte of the answer arrived. */
  readonly writtenAfterAnswer: number
  /** The sender stopped at its own limit (`maxChunks`), not because the service closed the connection. */
  readonly gaveUp: boolean
}

/**
 * Sends `head`, then body chunks for ever, one every `everyMs` (a trickle: never quiet, never done),
 * reading meanwhile; it does not close its side when the service's FIN arrives (allowHalfOpen). Ends
 * when the service closes the connection, or after `maxChunks` chunks (the loop's bound; `gaveUp`).
 * `onAnswer` runs once the first answer byte arrived.
 */
export async function writeForever (port: number, head: string, options: { chunked?: boolean, everyMs?: number, maxChunks?: number, onAnswer?: () => void } = {}): Promise<EndlessExchange> {
  const { chunked = false, everyMs = 5, maxChunks = 20_000 } = options
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  const seen = collect(socket)
  let answeredAt = -1
  let written = 0
  socket.once('data', () => { answeredAt = written; options.onAnswer?.() })
  const chunk = await sendHead(socket, head, chunked)
  let chunks = 0
  for (; chunks < maxChunks && !socket.destroyed; chunks++) {
    const more = socket.write(chunk)
    written += CHUNK_BYTES
    if (!more) await drained(socket)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  const gaveUp = !socket.destroyed
  socket.destroy()
  await seen.closed
  return { text: seen.text(), written, error: seen.error(), writtenAfterAnswer: answeredAt < 0 ? 0 : written - answeredAt, gaveUp }
}
