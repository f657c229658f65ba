/**
 * A small request body read whole, at most `maxBytes` (the query, remote-read and metadata routes; the
 * write route streams into slots instead). A declared length over the limit is refused before
 * reading; past the limit while reading, collecting stops and the rest flows by unread. The request is
 * never destroyed (leaving a `for await` over it would destroy the socket before the answer): the
 * error's 413 closes the connection after a lingering close (lingering-close.ts), so the sender reads it.
 */
import type { IncomingMessage } from 'node:http'
import { IngestError } from '../errors.js'

/** `what` names the body in errors ("the query body"). */
export async function readLimitedBody (req: IncomingMessage, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) throw new IngestError('body_too_large', `${what} (${declared} bytes) is larger than ${maxBytes} bytes`)
  return await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = []
    let size = 0
    const stop = (): void => { req.off('data', onData); req.off('end', onEnd); req.off('error', onError) }
    const onData = (b: Buffer): void => {
      size += b.length
      if (size <= maxBytes) { parts.push(b); return }
      stop()
      req.resume() // no reader: what still arrives is dropped
      reject(new IngestError('body_too_large', `${what} is larger than ${maxBytes} bytes`))
    }
    const onEnd = (): void => { stop(); resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)) }
    const onError = (err: Error): void => { stop(); reject(new IngestError('body_incomplete', `${what} could not be read: ${err.message}`)) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}
