/**
 * Waits for a child process started by a benchmark to be ready: a prom-ingest service (its
 * 'listening' log line, which carries the port) or a peer with a /health route (VictoriaMetrics,
 * vmagent). Both waits are bounded and fail early, with the reason, when the child exits.
 */
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { forEachLine } from './lines.js'

/**
 * The port in the service's `{"msg":"listening","port":N}` log line. The child must be spawned with
 * stdout and stderr piped. On timeout the child is killed; the error shows its last 50 lines.
 */
export async function listeningPort (child: ChildProcess, timeoutMs = 30_000): Promise<number> {
  const tail: string[] = []
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the service printed no 'listening' line in ${timeoutMs / 1000} s:\n${tail.join('\n')}`)) }, timeoutMs)
    forEachLine([child.stdout!, child.stderr!], line => {
      tail.push(line)
      if (tail.length > 50) tail.shift()
      try {
        const v = JSON.parse(line) as { msg?: unknown, port?: unknown }
        if (v.msg === 'listening' && typeof v.port === 'number') { clearTimeout(timer); resolve(v.port) }
      } catch { /* not a JSON line */ }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the service exited (code ${String(code)}) before listening:\n${tail.join('\n')}`)) })
  })
}

/** Polls `${url}/health` every 100 ms until it answers 200 (at most about 30 s). */
export async function waitForHealth (url: string, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; ; i++) {
    try { const r = await request(`${url}/health`); await r.body.dump(); if (r.statusCode === 200) return } catch { /* starting */ }
    if (i > 300 || child.exitCode !== null) throw new Error(`${name} did not start`)
    await sleep(100)
  }
}

/** Sends `signal` to a peer that may have been restarted, and waits for it to exit (`exited`); nothing when it is not running. */
export async function signalChild (child: ChildProcess | undefined, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  await exited
}

/** Resolves when the child has exited (at once if it already has). */
export function childExited (child: ChildProcess): Promise<void> {
  return new Promise(resolve => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve()) })
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves when it has exited. */
export async function stopChild (child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = childExited(child)
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
