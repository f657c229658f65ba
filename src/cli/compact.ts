/**
 * `prom-ingest compact [--all] [--data-dir DIR] [--url URL]`: compacts the store's head into Parquet
 * blocks now (docs/store.md). Through the running service when there is one (`POST
 * /api/v1/admin/compact`, behind the write credentials; found through service.json or --url),
 * else on the database file itself (the service must be stopped: DuckDB lets one process open it).
 * Prints what it did as JSON.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parseDuration } from '../config/duration.js'
import { IngestError, isErrorCode, toIngestError } from '../errors.js'
import { blockMaxRows, DEFAULT_BLOCK_WINDOW_MS } from '../sinks/duckdb/blocks/block-maintenance.js'
import { reconcileBlocks } from '../sinks/duckdb/blocks/block-reconcile.js'
import { COMPACT_PATH } from '../sinks/duckdb/blocks/compact-route.js'
import { closedBefore, runCompaction, type CompactionResult } from '../sinks/duckdb/blocks/compaction.js'
import { duckDbBytes } from '../sinks/duckdb/duckdb-store.js'
import { ensureSchema, openDatabase } from '../sinks/duckdb/open-database.js'
import { localService } from './query.js'

export const COMPACT_HELP = `Usage: prom-ingest compact [options]

Moves the rows of closed time windows from the store's head (DuckDB tables) into Parquet blocks
under DATA-DIR/blocks, as the service does on its own every compaction-interval. Through the
running service when there is one, else on the database file. Prints what it did as JSON.

Options:
  --all                  compact the open window too (every row in the head)
  --data-dir DIR         data directory of the store (default ./data, env PROM_INGEST_DATA_DIR)
  --url URL              compact through this running service (default: the one service.json in
                         the data directory names, if it is on a loopback address)
  --bearer-token T       the service's write bearer token (env PROM_INGEST_AUTH_BEARER_TOKEN)
  --bearer-token-file F  read the write bearer token from a file
  --block-window D       on the file: the block window (default 2h, env PROM_INGEST_BLOCK_WINDOW;
                         the service uses its own setting)
  --memory-limit SIZE    on the file: DuckDB's memory limit (default 96MB)
`

interface CompactArgs {
  all: boolean
  dataDir: string
  url: string | undefined
  token: string | undefined
  windowMs: number
  memoryLimit: string
}

function parse (argv: string[]): CompactArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      all: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      url: { type: 'string' },
      'bearer-token': { type: 'string' },
      'bearer-token-file': { type: 'string' },
      'block-window': { type: 'string' },
      'memory-limit': { type: 'string', default: '96MB' }
    }
  })
  let token = values['bearer-token'] ?? process.env.PROM_INGEST_AUTH_BEARER_TOKEN
  if (values['bearer-token-file'] !== undefined) token = readFileSync(values['bearer-token-file'], 'utf8').replace(/\r?\n$/, '')
  const windowText = values['block-window'] ?? process.env.PROM_INGEST_BLOCK_WINDOW
  const windowMs = windowText === undefined ? DEFAULT_BLOCK_WINDOW_MS : parseDuration(windowText)
  if (windowMs === undefined || windowMs < 1000) throw new IngestError('config_invalid', `--block-window must be a duration of 1s or more, such as 2h, got ${windowText}`)
  if (duckDbBytes(values['memory-limit']) === undefined) throw new IngestError('config_invalid', `--memory-limit must be a size such as 256MB, got ${values['memory-limit']}`)
  return {
    all: values.all,
    dataDir: values['data-dir'] ?? process.env.PROM_INGEST_DATA_DIR ?? './data',
    url: values.url?.replace(/\/+$/, ''),
    token: token === '' ? undefined : token,
    windowMs,
    memoryLimit: values['memory-limit']
  }
}

async function overHttp (a: CompactArgs, url: string): Promise<CompactionResult> {
  const headers: Record<string, string> = {}
  if (a.token !== undefined) headers.authorization = `Bearer ${a.token}`
  const res = await fetch(`${url}${COMPACT_PATH}${a.all ? '?all=true' : ''}`, { method: 'POST', headers })
  const text = await res.text()
  if (res.status !== 200) {
    const code = res.headers.get('x-prom-ingest-error')
    throw new IngestError(isErrorCode(code) ? code : res.status === 401 ? 'unauthorized' : 'compaction_failed', `${url} answered ${res.status}: ${text.trim()}`)
  }
  return JSON.parse(text) as CompactionResult
}

async function onFile (a: CompactArgs): Promise<CompactionResult> {
  const instance = await openDatabase(a.dataDir, { memoryLimit: a.memoryLimit, errorCode: 'compaction_failed' })
  try {
    const connection = await instance.connect()
    try {
      await ensureSchema(connection)
      await reconcileBlocks(connection, a.dataDir, (level, msg, obj) => process.stderr.write(`prom-ingest compact: ${level}: ${msg} ${JSON.stringify(obj)}\n`))
      const r = await runCompaction(connection, a.dataDir, {
        windowMs: a.windowMs,
        maxRows: blockMaxRows(duckDbBytes(a.memoryLimit)!),
        beforeMs: a.all ? undefined : closedBefore(Date.now(), a.windowMs)
      })
      return { ...r, durationMs: Math.round(r.durationMs) }
    } finally {
      connection.closeSync()
    }
  } finally {
    instance.closeSync()
  }
}

export async function runCompact (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(COMPACT_HELP)
    return 0
  }
  let a: CompactArgs
  try {
    a = parse(argv)
  } catch (err) {
    process.stderr.write(`prom-ingest compact: ${(err as Error).message}\n`)
    return 2
  }
  try {
    const url = a.url ?? localService(a.dataDir)
    const result = url !== undefined ? await overHttp(a, url) : await onFile(a)
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  } catch (err) {
    process.stderr.write(`prom-ingest compact: ${toIngestError(err).message.split('\n')[0]}\n`)
    return 1
  }
}
