/**
 * A real ClickHouse server (Debian's clickhouse-server 18.16, installed by .ci/run) for the ClickHouse
 * sink's tests (test/helpers/clickhouse.ts) and benchmark (bench/clickhouse.ts): its own config in a
 * temporary folder, free loopback ports, stopped (or killed) by PID. `clickhouseAvailable()` says
 * whether the binary is installed; tests skip at run time, naming it, when not.
 *
 * The minimal config 18.16 starts with: listen_host, http_port, tcp_port, path, tmp_path,
 * user_files_path, a users file with a default user (no password, loopback only), a logger writing to
 * files in the folder, and mark_cache_size (the server refuses to start without it).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { freePort } from './free-port.js'
import { signalChild } from './child-ready.js'

export const CLICKHOUSE_SERVER = '/usr/sbin/clickhouse-server'

export function clickhouseAvailable (): boolean {
  return existsSync(CLICKHOUSE_SERVER)
}

export interface ClickHouse {
  readonly url: string
  readonly tcpPort: number
  /** PID of the running server (undefined before the first start). */
  readonly pid: number | undefined
  readonly dir: string
  /** Runs a statement; resolves with the answer text (throws on a non-200 answer). */
  query(sql: string): Promise<string>
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
  /** Starts the server again on the same folder and ports (after kill, or the first time with deferStart). */
  restart(): Promise<void>
  /** SIGTERM, wait, remove the folder. */
  stop(): Promise<void>
}

export interface ClickHouseOptions {
  /** Ports to listen on (default: free ones); a cluster's servers must know each other's TCP ports first. */
  readonly httpPort?: number
  readonly tcpPort?: number
  /** More XML inside <yandex> (remote_servers, merge_tree settings). */
  readonly extraConfig?: string
  /** Not started until `restart()` (a test of a server that comes up after prom-ingest). */
  readonly deferStart?: boolean
}

export async function startClickHouse (options: ClickHouseOptions = {}): Promise<ClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-ch-'))
  const httpPort = options.httpPort ?? await freePort()
  const tcpPort = options.tcpPort ?? await freePort()
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <users_config>${dir}/users.xml</users_config>
  <mark_cache_size>5368709120</mark_cache_size>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
${options.extraConfig ?? ''}
</yandex>
`)
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`)
  const url = `http://127.0.0.1:${httpPort}`
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const launch = async (): Promise<void> => {
    const c = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], { stdio: 'ignore' })
    child = c
    exited = new Promise(resolve => c.once('exit', () => resolve()))
    for (let i = 0; i < 300; i++) { // up to 30 s
      if (c.exitCode !== null) throw new Error(`clickhouse-server exited with ${c.exitCode}; see ${dir}/error.log`)
      try {
        const res = await request(url + '/ping')
        const text = await res.body.text()
        if (res.statusCode === 200 && text.startsWith('Ok.')) return
      } catch { /* not listening yet */ }
      await sleep(100)
    }
    c.kill('SIGKILL')
    throw new Error('clickhouse-server was not ready within 30 s')
  }
  if (options.deferStart !== true) await launch()

  const query = async (sql: string): Promise<string> => {
    const res = await request(url + '/', { method: 'POST', body: sql })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`ClickHouse answered ${res.statusCode}: ${text}`)
    return text
  }
  const signal = async (sig: NodeJS.Signals): Promise<void> => { await signalChild(child, exited, sig) }
  return {
    url,
    tcpPort,
    get pid () { return child?.pid },
    dir,
    query,
    kill: () => signal('SIGKILL'),
    restart: launch,
    async stop () {
      await signal('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
