/**
 * What one forwarded request costs the sending thread, by HTTP client (issue 11): the same 223,000-byte
 * body (a view of a SharedArrayBuffer, as the forward worker sends from its ring) POSTed one after the
 * other over one keep-alive connection to a receiver in a process of its own (bench/forward-threads.ts
 * --receiver: reads the body, answers 204), with the sender's user and system CPU per request
 * (process.cpuUsage) and the wall time. Cases, interleaved by round:
 *
 *   undici request   Pool.request() and body.dump(): what the forward sender used before
 *   undici dispatch  Pool.dispatch() with a handler of our own: what src/forward/sender.ts does now
 *   node:http        http.request with a keep-alive Agent
 *   raw socket       net.Socket: the request head and the body written corked, the answer's head found by
 *                    its blank line (a floor: no parser, no timeouts, no error handling)
 *
 *   node dist/bench/forward-http.js [--rounds 7] [--requests 300] [--bytes 223000]
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { listeningPort } from './lib/child-ready.js'
import { printJson, printTable, quantile } from './lib/stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const HEADERS: Record<string, string> = { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0', 'user-agent': 'prom-ingest' }

interface Client { post(): Promise<number>, close(): Promise<void> }

function undiciRequest (origin: string, body: Uint8Array): Client {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 })
  return {
    async post () { const r = await pool.request({ method: 'POST', path: '/api/v1/write', headers: HEADERS, body }); await r.body.dump(); return r.statusCode },
    async close () { await pool.close() }
  }
}

function undiciDispatch (origin: string, body: Uint8Array): Client {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 })
  const headers = Object.entries(HEADERS).flat()
  return {
    post: () => new Promise<number>((resolve, reject) => {
      let status = 0
      pool.dispatch({ method: 'POST', path: '/api/v1/write', headers, body }, {
        onConnect: () => {},
        onHeaders: (s: number) => { status = s; return true },
        onData: () => true,
        onComplete: () => resolve(status),
        onError: (err: Error) => reject(err)
      })
    }),
    async close () { await pool.close() }
  }
}

function nodeHttp (origin: string, body: Uint8Array): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const url = new URL(origin)
  return {
    post: () => new Promise<number>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/api/v1/write', agent, headers: { ...HEADERS, 'content-length': body.length } }, res => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end(body)
    }),
    async close () { agent.destroy() }
  }
}

async function rawSocket (origin: string, body: Uint8Array): Promise<Client> {
  const url = new URL(origin)
  const socket = net.connect(Number(url.port), url.hostname)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  socket.setNoDelay(true)
  const head = Buffer.from(`POST /api/v1/write HTTP/1.1\r\nhost: ${url.host}\r\n${Object.entries(HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('')}content-length: ${body.length}\r\n\r\n`, 'latin1')
  let waiting: ((status: number) => void) | undefined
  let seen = ''
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.toString('latin1')
    const end = seen.indexOf('\r\n\r\n')
    if (end < 0) return
    const status = Number(seen.slice(9, 12))
    seen = seen.slice(end + 4) // a 204 has no body
    const w = waiting
    waiting = undefined
    w?.(status)
  })
  return {
    post: () => new Promise<number>(resolve => {
      waiting = resolve
      socket.cork()
      socket.write(head)
      socket.write(body)
      socket.uncork()
    }),
    async close () { socket.destroy() }
  }
}

const CASES: ReadonlyArray<[string, (origin: string, body: Uint8Array) => Client | Promise<Client>]> = [
  ['undici request', undiciRequest],
  ['undici dispatch', undiciDispatch],
  ['node:http', nodeHttp],
  ['raw socket', rawSocket]
]

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, requests: { type: 'string', default: '300' }, bytes: { type: 'string', default: '223000' } } })
  const rounds = Number(values.rounds)
  const n = Number(values.requests)
  const bytes = Number(values.bytes)
  const body = new Uint8Array(new SharedArrayBuffer(bytes + 4096), 24, bytes)
  for (let i = 0; i < bytes; i++) body[i] = (i * 2654435761) >>> 24
  const receiver = spawn(process.execPath, [join(HERE, 'forward-threads.js'), '--receiver'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const results = new Map<string, Array<{ user: number, sys: number, wall: number }>>(CASES.map(([name]) => [name, []]))
  try {
    const origin = `http://127.0.0.1:${await listeningPort(receiver)}`
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < CASES.length; k++) {
        const [name, make] = CASES[(k + r) % CASES.length]!
        const client = await make(origin, body)
        try {
          for (let i = 0; i < 30; i++) if (await client.post() !== 204) throw new Error(`${name}: the receiver did not answer 204`)
          const cpu = process.cpuUsage()
          const t = performance.now()
          for (let i = 0; i < n; i++) await client.post()
          const used = process.cpuUsage(cpu)
          results.get(name)!.push({ user: used.user / n, sys: used.system / n, wall: (performance.now() - t) * 1000 / n })
        } finally {
          await client.close()
        }
      }
    }
  } finally {
    receiver.kill('SIGTERM')
  }
  const stat = (xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b)
    return `${quantile(s, 0.5).toFixed(0)} (${quantile(s, 0.1).toFixed(0)}–${quantile(s, 0.9).toFixed(0)})`
  }
  console.log(`\nforward-http: ${n} POSTs of ${bytes} bytes per round over one keep-alive connection, ${rounds} interleaved rounds; µs per request, median (p10–p90 of rounds)`)
  printTable(['client', 'user CPU µs', 'system CPU µs', 'wall µs'], CASES.map(([name]) => {
    const rs = results.get(name)!
    return [name, stat(rs.map(x => x.user)), stat(rs.map(x => x.sys)), stat(rs.map(x => x.wall))]
  }))
  printJson('forward-http', { rounds, requests: n, bytes, results: Object.fromEntries(results) })
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err)
  process.exit(1)
})
