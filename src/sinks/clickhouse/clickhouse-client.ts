/**
 * ClickHouse over its HTTP interface, with undici: one keep-alive pool per URL. A statement is sent to
 * the URL that last answered, and to the next ones in turn when it cannot be reached or answers 5xx
 * (several URLs: replicas behind no load balancer, or several load balancers).
 *
 * The statement goes in the `query` parameter and the rows (RowBinary) in the body; ClickHouse
 * applies a RowBinary INSERT whole or not at all (a body cut short inserts nothing), so an INSERT that
 * failed can be sent again whole.
 */
import { Pool } from 'undici'
import { IngestError } from '../../errors.js'

export interface ClickHouseClientOptions {
  readonly urls: readonly string[]
  readonly user: string
  readonly password: string
  /** Longest a statement may take, ms (connect, send, answer). */
  readonly timeoutMs: number
  /** Keep-alive connections per URL. */
  readonly connections?: number
  /** ClickHouse settings sent with every statement (URL parameters), such as insert_distributed_sync. */
  readonly settings?: Readonly<Record<string, string>>
}

/** Most bytes of an error answer kept for the error message. */
const ERROR_TEXT_BYTES = 2048

export class ClickHouseClient {
  private readonly pools: Pool[]
  private readonly paths: string[]
  private readonly headers: Record<string, string>
  /** Index of the URL that answered last. */
  private current = 0

  constructor (private readonly options: ClickHouseClientOptions) {
    if (options.urls.length === 0) throw new IngestError('config_invalid', 'clickhouse-url: at least one URL is needed')
    this.pools = options.urls.map(u => new Pool(new URL(u).origin, {
      connections: options.connections ?? 4,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 5000)
    }))
    this.paths = options.urls.map(u => new URL(u).pathname.replace(/\/+$/, '') + '/')
    this.headers = {
      authorization: 'Basic ' + Buffer.from(`${options.user}:${options.password}`).toString('base64'),
      'content-type': 'application/octet-stream'
    }
  }

  /** Runs `sql` (with `body` as its data, for INSERT … FORMAT RowBinary); resolves with the answer text. */
  async run (sql: string, body?: Uint8Array): Promise<string> {
    const failures: string[] = []
    let clickhouseCode: number | undefined
    for (let k = 0; k < this.pools.length; k++) {
      const i = (this.current + k) % this.pools.length
      try {
        const text = await this.send(i, sql, body)
        this.current = i
        return text
      } catch (err) {
        const e = err as Error & { clickhouseStatus?: number, clickhouseCode?: number }
        failures.push(`${this.options.urls[i]}: ${e.message}`)
        clickhouseCode = e.clickhouseCode
        // A 4xx is the statement's fault: another server would refuse it too.
        if (e.clickhouseStatus !== undefined && e.clickhouseStatus < 500) break
      }
    }
    throw new IngestError('sink_failed', `ClickHouse: ${failures.join('; ')}`, clickhouseCode === undefined ? undefined : { clickhouseCode })
  }

  /** How many URLs the client has. */
  get urlCount (): number { return this.pools.length }

  /** Runs `sql` on URL i only (DDL on each server of a cluster without ZooKeeper). */
  async runAt (i: number, sql: string, body?: Uint8Array): Promise<string> {
    try {
      return await this.send(i, sql, body)
    } catch (err) {
      const code = (err as { clickhouseCode?: number }).clickhouseCode
      throw new IngestError('sink_failed', `ClickHouse: ${this.options.urls[i]}: ${(err as Error).message}`, code === undefined ? undefined : { clickhouseCode: code })
    }
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.pools.map(p => p.close()))
  }

  private async send (i: number, sql: string, body: Uint8Array | undefined): Promise<string> {
    // Statements name their tables with the database (ddl.ts), so none is set here: CREATE DATABASE works too.
    const query = new URLSearchParams({ ...this.options.settings, query: sql })
    const res = await this.pools[i]!.request({
      method: 'POST',
      path: `${this.paths[i]}?${query.toString()}`,
      headers: this.headers,
      body: body === undefined ? '' : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    })
    const text = await res.body.text()
    if (res.statusCode === 200) return text
    const err = new Error(`HTTP ${res.statusCode}: ${text.slice(0, ERROR_TEXT_BYTES).split('\n')[0]}`) as Error & { clickhouseStatus?: number, clickhouseCode?: number }
    err.clickhouseStatus = res.statusCode
    // ClickHouse's exception code: the answer starts `Code: 252, e.displayText() = …` (18.16 and newer).
    const code = /^Code: (\d+)/.exec(text)
    if (code !== null) err.clickhouseCode = Number(code[1])
    throw err
  }
}
