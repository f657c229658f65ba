/**
 * Reads a child process' output line by line (the service logs one JSON object a line). Used by the
 * load generator and the tests that start the service.
 */
import type { Readable } from 'node:stream'

/** Calls `onLine` for every complete line of every stream, and for a last unterminated one at the end. */
export function forEachLine (streams: Iterable<Readable>, onLine: (line: string) => void): void {
  for (const stream of streams) {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      rest += chunk
      for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
        const line = rest.slice(0, nl)
        rest = rest.slice(nl + 1)
        onLine(line)
      }
    })
    stream.on('end', () => { if (rest !== '') { onLine(rest); rest = '' } })
  }
}
