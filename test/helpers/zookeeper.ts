/**
 * A real ZooKeeper (Debian's `zookeeper` 3.8, installed by .ci/run; Java) for the ClickHouse cluster
 * tests: standalone, on a free loopback port, with its own zoo.cfg and data folder in a temporary
 * folder, started as `java -cp /usr/share/java/zookeeper.jar QuorumPeerMain zoo.cfg` (the jar's
 * manifest names the other Debian jars it needs) and stopped by PID. `zookeeperMissing()` names what is
 * not installed; tests skip at run time, saying so.
 *
 * Ready is when the `srvr` four-letter word answers `Mode: standalone`: `ruok` answers `imok` as soon as
 * the port is bound, before the server takes sessions (ClickHouse then fails its handshake).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { signalChild } from '../../bench/lib/child-ready.js'
import { freePort } from '../../bench/lib/free-port.js'

export const JAVA = '/usr/bin/java'
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar'
/** slf4j's simple logger (Debian's libslf4j-java, a dependency of zookeeper): the server's log goes to a file. */
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar'

/** What is not installed ('' when ZooKeeper can run here). */
export function zookeeperMissing (): string {
  if (!existsSync(JAVA)) return `${JAVA} (Debian package default-jre, which zookeeper depends on)`
  if (!existsSync(ZOOKEEPER_JAR)) return `${ZOOKEEPER_JAR} (Debian package zookeeper)`
  return ''
}

export interface ZooKeeper {
  readonly port: number
  readonly pid: number | undefined
  readonly dir: string
  /** The `<zookeeper>` and `<distributed_ddl>` sections of a ClickHouse config that uses this server. */
  clickhouseConfig(ddlPath: string): string
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data folder (nothing when it runs). */
  restart(): Promise<void>
  /** SIGTERM, wait, remove the folder. */
  stop(): Promise<void>
}

/** The answer to a four-letter word ('' when nothing answers). */
export async function fourLetterWord (port: number, word: string): Promise<string> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.setTimeout(2000, () => { socket.destroy(); resolve(text) })
    socket.on('connect', () => socket.write(word))
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('close', () => resolve(text))
    socket.on('error', () => { /* close follows */ })
  })
}

export async function startZooKeeper (): Promise<ZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-zk-'))
  const port = await freePort()
  mkdirSync(join(dir, 'data'))
  writeFileSync(join(dir, 'zoo.cfg'), [
    'tickTime=500',
    `dataDir=${dir}/data`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    // Sessions of 1 to 10 s (2 to 20 ticks): ClickHouse asks for its session_timeout_ms within these.
    'minSessionTimeout=1000',
    'maxSessionTimeout=10000',
    'admin.enableServer=false',
    '4lw.commands.whitelist=srvr,ruok',
    // A restart finds transaction logs and maybe no snapshot yet: load them anyway.
    'snapshot.trust.empty=true',
    ''
  ].join('\n'))
  const classpath = existsSync(SLF4J_SIMPLE_JAR) ? `${ZOOKEEPER_JAR}:${SLF4J_SIMPLE_JAR}` : ZOOKEEPER_JAR
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const launch = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return // running
    const log = openSync(join(dir, 'zookeeper.log'), 'a')
    const c = spawn(JAVA, [
      // A small, quickly started JVM: the test's ZooKeeper holds a few dozen nodes.
      '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp', classpath, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(dir, 'zoo.cfg')
    ], { stdio: ['ignore', log, log] })
    closeSync(log)
    child = c
    exited = new Promise(resolve => c.once('exit', () => resolve()))
    for (let i = 0; i < 300; i++) { // up to 30 s (the JVM starts in about 2 s here)
      if (c.exitCode !== null) throw new Error(`ZooKeeper exited with ${c.exitCode}; see ${dir}/zookeeper.log`)
      if ((await fourLetterWord(port, 'srvr')).includes('Mode: standalone')) return
      await sleep(100)
    }
    c.kill('SIGKILL')
    throw new Error(`ZooKeeper was not serving within 30 s; see ${dir}/zookeeper.log`)
  }
  await launch()

  const signal = async (sig: NodeJS.Signals): Promise<void> => { await signalChild(child, exited, sig) }
  return {
    port,
    get pid () { return child?.pid },
    dir,
    clickhouseConfig: (ddlPath: string) =>
      `<zookeeper><node><host>127.0.0.1</host><port>${port}</port></node><session_timeout_ms>5000</session_timeout_ms></zookeeper>` +
      `<distributed_ddl><path>${ddlPath}</path></distributed_ddl>`,
    kill: () => signal('SIGKILL'),
    restart: launch,
    async stop () {
      await signal('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
