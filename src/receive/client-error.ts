/**
 * Answers for the requests that Node's own HTTP parser refuses before any route sees them (the
 * server's 'clientError' event): a request line and headers over the max header size, a malformed
 * request line, header or chunk framing, chunk extensions over Node's limit, and Node's headers and
 * request timeouts.
 *
 * Left to itself, Node writes a bare 431, 400, 413 or 408 with no reason and destroys the socket at
 * once: a sender still sending gets a TCP reset, which often discards the answer before it is read
 * (lingering-close.ts tells why). Here the answer is the service's own (code and reason, as
 * error-response.ts gives every error), written on the socket, which then lingers so that the sender
 * reads it, and is closed.
 *
 * Node forwards socket errors (ECONNRESET, EPIPE) to the same event: those get no answer, and neither
 * does a socket that cannot take one (its write side ended, or an answer on it has begun); such
 * sockets are destroyed, as Node does.
 */
import { maxHeaderSize, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { IngestError } from '../errors.js'
import { errorAnswerBytes, type ErrorAnswerPolicy } from './error-response.js'
import { lingerAfterAnswer } from './lingering-close.js'

/** Node's limit on the chunk extensions of one chunk, bytes (node_http_parser.cc, kMaxChunkExtensionsSize). */
const CHUNK_EXTENSIONS_LIMIT_BYTES = 16 << 10

export interface ClientErrorDeps {
  readonly policy: ErrorAnswerPolicy
  /** Counts one answer by status, when no route counts it (no request of the connection reached one). */
  readonly count: (status: number) => void
}

/** A socket of node:http's server: the answer in progress on it, if any (Node's own field). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null }

/** Sockets answered here: the parser, left in its error state, refuses each later read again, and those refusals get nothing more. */
const answered = new WeakSet<Socket>()

/** The server's 'clientError' listener. */
export function answerClientError (server: Server, err: NodeJS.ErrnoException, socket: Socket, deps: ClientErrorDeps): void {
  if (answered.has(socket)) return
  const inProgress = (socket as HttpSocket)._httpMessage ?? undefined
  const refusal = refusalOf(server, err, inProgress !== undefined)
  if (refusal === undefined || !socket.writable || inProgress?.headersSent === true) {
    socket.destroy()
    return
  }
  answered.add(socket)
  socket.write(errorAnswerBytes(refusal, deps.policy))
  lingerAfterAnswer(socket)
  // A request whose headers were parsed is its route's: the route counts it when the connection
  // closes, and the answer is told like a route's (the status page's rejected writes).
  if (inProgress === undefined) deps.count(refusal.status)
  else deps.policy.onAnswer?.(inProgress, refusal, refusal.status)
}

/**
 * The error a refusal of Node's answers with, or undefined for a socket error. `inProgress`: a request
 * on the connection has its headers parsed and is not answered yet.
 */
export function refusalOf (server: Server, err: NodeJS.ErrnoException, inProgress: boolean): IngestError | undefined {
  const code = err.code ?? ''
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // Node's headersTimeout and requestTimeout both end in this error; a request past its headers is the latter's.
    return inProgress
      ? new IngestError('request_timeout', `the request did not arrive whole within ${server.requestTimeout} ms (Node's requestTimeout, derived from headers-timeout, slot-wait, body-idle-timeout, max-body-bytes and body-min-rate)`)
      : new IngestError('headers_timeout', `the request's headers did not arrive whole within ${server.headersTimeout} ms (headers-timeout)`)
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    // server.maxHeaderSize is set only when createServer was given one; else Node's process-wide value.
    return new IngestError('headers_too_large', `the request line and headers are larger than the limit of ${(server as { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize} bytes (Node's max header size, --max-http-header-size)`)
  }
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
    return new IngestError('chunk_extensions_too_large', `the chunk extensions of the body are larger than Node's limit of ${CHUNK_EXTENSIONS_LIMIT_BYTES} bytes`)
  }
  if (code.startsWith('HPE_')) {
    const reason = (err as { reason?: unknown }).reason
    return new IngestError('request_malformed', `the request is not valid HTTP/1.1: ${typeof reason === 'string' ? reason : err.message} (${code})`)
  }
  return undefined
}
