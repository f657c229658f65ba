/**
 * Real peer binaries for the forwarder's tests, started on free loopback ports and stopped by PID:
 * VictoriaMetrics (single node) and Prometheus with its remote-write receiver. `available()` says
 * whether the binary is installed (.ci/run installs both from Debian); tests skip at run time, naming
 * the missing binary, when it is not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { freePort } from '../../bench/lib/free-port.js'
export { freePort } from '../../bench/lib/free-port.js'

export const VICTORIA_METRICS = '/usr/bin/victoria-metrics'
export const PROMETHEUS = '/usr/bin/prometheus'
export const VMAGENT = '/usr/bin/vmagent'

export function available (binary: string): boolean {
  return spawnSync(binary, ['--version'], { encoding: 'utf8' }).error === undefined
}

export interface Peer {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  readonly logs: string[]
  /** SIGSTOP / SIGCONT: the process keeps its sockets but answers nothing. */
  pause(): void
  resume(): void
  stop(): Promise<void>
}

async function startPeer (binary: string, args: string[], port: number, readyPath: string): Promise<Peer> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: string[] = []
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => { for (const line of chunk.split('\n')) if (line !== '') logs.push(line) })
  }
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}:\n${logs.join('\n')}`)
    try {
      const res = await request(url + readyPath)
      await res.body.dump()
      if (res.statusCode === 200) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${binary} was not ready within 30 s:\n${logs.join('\n')}`)
    }
    await sleep(100)
  }
  return {
    url,
    port,
    child,
    logs,
    pause: () => { child.kill('SIGSTOP') },
    resume: () => { child.kill('SIGCONT') },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** VictoriaMetrics single node; remote write at `${url}/api/v1/write`. */
export async function startVictoriaMetrics (dataDir: string, port?: number): Promise<Peer> {
  const p = port ?? await freePort()
  return startPeer(VICTORIA_METRICS, ['-storageDataPath', dataDir, '-httpListenAddr', `127.0.0.1:${p}`, '-loggerLevel', 'ERROR'], p, '/health')
}

/** Every (series, timestamp) VictoriaMetrics holds, as `series @ ts` keys (with repeats), after a flush. */
export async function exportVictoriaMetrics (vm: Peer, match = '{__name__!=""}'): Promise<string[]> {
  const flush = await request(`${vm.url}/internal/force_flush`)
  await flush.body.dump()
  const res = await request(`${vm.url}/api/v1/export?match[]=${encodeURIComponent(match)}`)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`export answered ${res.statusCode}: ${text}`)
  const out: string[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const row = JSON.parse(line) as { metric: Record<string, string>, timestamps: number[] }
    const { __name__: name, ...rest } = row.metric
    const labels = Object.keys(rest).sort().map(k => `${k}="${rest[k]}"`).join(',')
    const series = labels === '' ? name! : `${name!}{${labels}}`
    for (const t of row.timestamps) out.push(`${series} @ ${t}`)
  }
  return out
}

/** Prometheus with the remote-write receiver; remote write at `${url}/api/v1/write`. */
export async function startPrometheusReceiver (dir: string, configFile: string): Promise<Peer> {
  const p = await freePort()
  return startPeer(PROMETHEUS, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dir}`,
    `--web.listen-address=127.0.0.1:${p}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn'
  ], p, '/-/ready')
}
