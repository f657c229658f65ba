/**
 * A prom-ingest service started by a benchmark: `serve` on a free loopback port, ready when it logs
 * 'listening', stopped with SIGTERM (it flushes its sinks and exits) and SIGKILL after 30 s.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { listeningPort } from './child-ready.js'

export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  readonly pid: number
  stop (): Promise<void>
}

/** Starts `node <cli> serve --listen 127.0.0.1:0 --log-level warn <args>` and waits until it listens. */
export async function startServe (cli: string, args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const port = await listeningPort(child)
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    pid: child.pid!,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
        await exited
        clearTimeout(timer)
      }
    }
  }
}
