/**
 * Runs the real service as a child process (`node dist/src/cli.js serve --listen 127.0.0.1:0 ...`) and
 * finds its port in the structured 'listening' log line. `npm test` builds dist/ first; running one
 * test file alone needs `npm run build` before it.
 *
 * Every line the child writes (stdout and stderr) is kept in `logs`, so that a failing test can print
 * them; `waitForLog` resolves on a JSON log line as it arrives. `stop()` sends a signal (SIGTERM unless told) and resolves with the exit code (null when the
 * child died of a signal); after `stopTimeoutMs` it sends SIGKILL, so no test leaves a process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { forEachLine } from '../../bench/lib/lines.js'

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI_PATH = join(PROJECT_ROOT, 'dist', 'src', 'cli.js')

export interface ServiceProcess {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  /** Every line the process wrote, stdout and stderr, in arrival order. */
  readonly logs: string[]
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals, stopTimeoutMs?: number): Promise<number | null>
  /** Resolves with the exit code when the process exits (for tests that signal it themselves). */
  readonly exited: Promise<number | null>
  /**
   * Resolves with the first JSON log line whose `msg` is `msg` (one already written included);
   * rejects if the process exits first or after `timeoutMs` (a safety net, default 30 s).
   */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>
}

export interface StartOptions {
  /** How long to wait for the 'listening' line (default 30 s). */
  startTimeoutMs?: number
  /** Working directory of the child (default the project root). */
  cwd?: string
}

/** The parsed JSON log lines (lines that are not JSON are left out). */
export function jsonLogs (logs: readonly string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const line of logs) {
    try {
      const v: unknown = JSON.parse(line)
      if (v !== null && typeof v === 'object') out.push(v as Record<string, unknown>)
    } catch { /* not a JSON line */ }
  }
  return out
}

export async function startServiceProcess (args: string[], env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServiceProcess> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`)
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--listen', '127.0.0.1:0', ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const logs: string[] = []
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => { exitCode = code; resolve(code) })
  })

  // 'close' comes after the last output line; 'exit' may come before it.
  const closed = new Promise<number | null>(resolve => { child.once('close', code => { resolve(code) }) })
  let onLine: ((line: string) => void) | undefined
  const watchers = new Set<(line: string) => void>()
  forEachLine([child.stdout, child.stderr], line => {
    logs.push(line)
    onLine?.(line)
    for (const w of watchers) w(line)
  })

  const waitForLog = async (msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const found = jsonLogs(logs).find(l => l.msg === msg)
    if (found !== undefined) return found
    return await new Promise<Record<string, unknown>>((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); watchers.delete(watch) }
      const watch = (line: string): void => {
        const l = jsonLogs([line])[0]
        if (l?.msg === msg) { done(); resolve(l) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no log line "${msg}" within ${timeoutMs} ms\n--- service output ---\n${logs.join('\n')}`)) }, timeoutMs)
      watchers.add(watch)
      void closed.then(code => {
        if (!watchers.has(watch)) return
        done()
        reject(new Error(`the service exited (code ${String(code)}) before it logged "${msg}"\n--- service output ---\n${logs.join('\n')}`))
      })
    })
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 30_000): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode
    child.kill(signal)
    const timer = setTimeout(() => { if (exitCode === undefined) child.kill('SIGKILL') }, stopTimeoutMs)
    try { return await exited } finally { clearTimeout(timer) }
  }

  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000
    const fail = (why: string): void => {
      clearTimeout(timer)
      onLine = undefined
      reject(new Error(`${why}\n--- service output ---\n${logs.join('\n')}`))
    }
    const timer = setTimeout(() => {
      fail(`the service printed no 'listening' line within ${timeoutMs} ms`)
      child.kill('SIGKILL')
    }, timeoutMs)
    const check = (line: string): void => {
      let v: { msg?: unknown, port?: unknown }
      try { v = JSON.parse(line) as typeof v } catch { return }
      if (v.msg === 'listening' && typeof v.port === 'number') {
        clearTimeout(timer)
        onLine = undefined
        resolve(v.port)
      }
    }
    for (const line of logs) check(line)
    onLine = check
    void exited.then(code => fail(`the service exited (code ${String(code)}) before it was listening`))
  })

  return { url: `http://127.0.0.1:${port}`, port, child, logs, stop, exited, waitForLog }
}
