/**
 * A free TCP port on 127.0.0.1 for a peer that takes its port on the command line (Prometheus,
 * VictoriaMetrics, vmagent, ClickHouse). The port is free when this returns; the peer binds it next.
 */
import { createServer } from 'node:net'

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no free port on 127.0.0.1')
  return address.port
}
