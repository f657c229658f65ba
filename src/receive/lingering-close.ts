/**
 * Lingering close: how a connection ends after an answer sent before the request's body was read
 * (413 while streaming or for a declared length over the limit, 408, a refusal of a body too large to
 * drain, a query route's 413, and the answers to requests Node's parser refuses: client-error.ts).
 *
 * Node ends a `Connection: close` answer with `socket.destroySoon()`: FIN once the answer is flushed,
 * then the socket is destroyed at once. The sender is still writing its body, so the kernel finds
 * unread bytes when the socket closes and sends a TCP reset; a reset that arrives before the sender
 * read the answer discards it, and the sender sees ECONNRESET or EPIPE instead of the 413. Prometheus
 * drops a batch answered 4xx but retries a network error for ever, so a reset would block its shard.
 *
 * So, as nginx (lingering_close) and Go's net/http (closeWriteAndWait) do, this connection instead:
 *   1. half-closes once the answer is flushed (FIN: the sender sees the end of the answer),
 *   2. keeps reading and dropping what the sender still sends (the request is resumed with no reader:
 *      Node's parser hands the chunks to nobody, they are never copied into a slot or held),
 *   3. is destroyed when the sender closes its side, after LINGER_QUIET_MS without a byte, or after
 *      LINGER_MAX_MS in all, whichever comes first: a sender cannot hold it open by trickling bytes.
 * Shutdown ends lingering connections at once (endLingering, and Node's closeAllConnections).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { Socket } from 'node:net'

/** Longest a connection lingers after its answer, ms (Go's net/http waits 500 ms, nginx's lingering_time is 30 s). */
export const LINGER_MAX_MS = 1000
/** A lingering connection whose sender sent nothing for this long is closed, ms. */
export const LINGER_QUIET_MS = 500

/** The request whose body is left unread, kept on its socket until the answer is flushed. */
const REQUEST = Symbol('prom-ingest.lingering-request')
type LingeringSocket = Socket & { [REQUEST]?: IncomingMessage, server?: unknown }

/** Sockets lingering now and their clocks, so that shutdown can end them at once. */
const lingering = new Map<LingeringSocket, Linger>()

/**
 * Marks `res` as the last answer on its connection (`Connection: close`). When the request's body was
 * not read to its end by the time the answer is flushed, the connection lingers (above) before it is
 * destroyed; otherwise it closes as Node closes it.
 */
export function closeAfterAnswer (res: ServerResponse): void {
  res.setHeader('Connection', 'close')
  const socket = res.socket as LingeringSocket | null
  if (socket === null || socket.destroyed) return
  socket[REQUEST] = res.req
  // Node calls destroySoon() on the socket once the last answer on it is flushed (http server,
  // resOnFinish). It is replaced on this one socket only (an own property; net.Socket's prototype is
  // untouched), because that call is the one moment at which the answer is known to be out.
  socket.destroySoon = lingerThenDestroy
}

/** True while `socket` lingers: a request parsed from what the sender still sends gets no answer. */
export function isLingering (socket: Socket): boolean {
  return lingering.has(socket)
}

/** Destroys every connection of `server` that lingers now (shutdown does not wait for them). */
export function endLingering (server: Server): void {
  // net sets `server` on every socket it accepts.
  for (const socket of lingering.keys()) if (socket.server === server) socket.destroy()
}

/** Replaces net.Socket's destroySoon on a socket whose last answer was marked by closeAfterAnswer. */
function lingerThenDestroy (this: LingeringSocket): void {
  const req = this[REQUEST]
  this[REQUEST] = undefined
  // The body was read to its end (or the request is gone): nothing is left to drop, close as Node does.
  if (req === undefined || req.complete || req.destroyed || this.destroyed) return Socket.prototype.destroySoon.call(this)
  linger(this)
  // The route stopped reading; a resumed request with no 'data' listener drops what arrives.
  req.resume()
}

/**
 * Ends `socket` after an answer written on it directly, with no ServerResponse (a request Node's
 * parser refused: client-error.ts), and lets it linger as above. What the sender still sends is read
 * and dropped: Node's parser, in its error state, refuses every later byte.
 */
export function lingerAfterAnswer (socket: Socket): void {
  if (socket.destroyed) return
  linger(socket)
}

function linger (socket: LingeringSocket): void {
  lingering.set(socket, new Linger(socket))
  socket.once('close', onLingerClose)
  // The sender closed its side: it has the answer and sends nothing more.
  socket.once('end', onLingerEnd)
  // The write side ends once the answer is flushed; the http server's sockets allow half-open, so reading goes on.
  socket.end()
}

/** The clock of one lingering socket: a tick every LINGER_QUIET_MS, at most LINGER_MAX_MS / LINGER_QUIET_MS ticks. */
class Linger {
  private ticks = 0
  private bytesRead: number
  private readonly timer: NodeJS.Timeout

  constructor (private readonly socket: LingeringSocket) {
    this.bytesRead = socket.bytesRead
    this.timer = setInterval(onLingerTick, LINGER_QUIET_MS, this)
    // A lingering socket never keeps the process alive.
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Destroys the socket when the sender was quiet for a tick or the time is up. */
  tick (): void {
    const socket = this.socket
    this.ticks++
    // bytesRead counts what the kernel handed over, also while Node's parser reads the socket natively.
    const read = socket.bytesRead
    if (read === this.bytesRead || this.ticks * LINGER_QUIET_MS >= LINGER_MAX_MS || socket.destroyed) {
      this.stop()
      socket.destroy()
      return
    }
    this.bytesRead = read
  }
}

function onLingerTick (linger: Linger): void {
  linger.tick()
}

function onLingerEnd (this: LingeringSocket): void {
  this.destroy()
}

function onLingerClose (this: LingeringSocket): void {
  lingering.get(this)?.stop()
  lingering.delete(this)
}
