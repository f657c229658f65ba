/**
 * A scrape target for tests that run a real Prometheus: an HTTP server on 127.0.0.1 serving a fixed
 * list of series in the text exposition format (each with the value 1), label values escaped as the
 * format asks (\\, \n, \"; every other character, \r and U+2028 included, as it is).
 */
import { createServer, type Server } from 'node:http'

export interface ScrapeTarget {
  readonly port: number
  close(): Promise<void>
}

/** A label value as the exposition format writes it between double quotes. */
export function escapeLabelValue (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

/** Exposition lines `name{label="value",...} 1` for series given as name-to-value records with __name__. */
export function expositionOf (series: ReadonlyArray<Readonly<Record<string, string>>>): string {
  return series.map(s => {
    const { __name__: name, ...rest } = s
    return `${name}{${Object.entries(rest).map(([n, v]) => `${n}="${escapeLabelValue(v)}"`).join(',')}} 1\n`
  }).join('')
}

/** Starts a target on a free loopback port that answers every request with expositionOf(series). */
export async function startScrapeTarget (series: ReadonlyArray<Readonly<Record<string, string>>>): Promise<ScrapeTarget> {
  const body = expositionOf(series)
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' })
    res.end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
