/**
 * `prom-ingest export --format parquet --out DIR [--from T] [--to T] [--data-dir DIR]`: writes the
 * stored samples with their series (metric, labels, tenant, ts, value, start_ts) as a Parquet file,
 * DIR/samples.parquet, with DuckDB's own writer (COPY ... TO ... (FORMAT parquet)).
 *
 * It opens the database file read-only, so it runs while the service is stopped (DuckDB lets one
 * process open the file); with the service running, read through `prom-ingest query` instead.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../config/duration.js'
import { IngestError, toIngestError } from '../errors.js'
import { useBlocks } from '../sinks/duckdb/blocks/block-reconcile.js'
import { openDatabase } from '../sinks/duckdb/open-database.js'

export const EXPORT_FORMATS = ['parquet'] as const

export const EXPORT_HELP = `Usage: prom-ingest export --format parquet --out DIR [options]

Writes the stored samples with their labels as Parquet: DIR/samples.parquet with the columns
metric VARCHAR, labels MAP(VARCHAR, VARCHAR), tenant VARCHAR, series_id UINTEGER, ts TIMESTAMP
(UTC), value DOUBLE, start_ts TIMESTAMP. Reads the database file, so stop the service first.

Options:
  --format parquet     output format (parquet)
  --out DIR            output directory (created if missing; samples.parquet in it is replaced)
  --from T             only samples at or after T
  --to T               only samples before T
  --data-dir DIR       data directory of the store (default ./data, env PROM_INGEST_DATA_DIR)

Times: RFC 3339 (2025-01-31T12:00:00Z), Unix seconds or milliseconds, now, or now-<duration> (now-1h).
`

/** A time argument as milliseconds since the epoch. */
export function parseTime (text: string, nowMs = Date.now()): number {
  const t = text.trim()
  if (t === 'now') return nowMs
  const rel = /^now-(.+)$/.exec(t)
  if (rel !== null) {
    const d = parseDuration(rel[1]!)
    if (d === undefined) throw new IngestError('config_invalid', `cannot read the duration in ${JSON.stringify(text)}`)
    return nowMs - d
  }
  if (/^-?\d+(\.\d+)?$/.test(t)) {
    const n = Number(t)
    return Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n) // seconds below 1e11 (year 5138), else ms
  }
  const ms = Date.parse(t)
  if (Number.isNaN(ms)) throw new IngestError('config_invalid', `cannot read the time ${JSON.stringify(text)}: use RFC 3339, Unix seconds or ms, now, or now-<duration>`)
  return ms
}

function quote (s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

export async function runExport (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(EXPORT_HELP)
    return 0
  }
  let out: string
  let dataDir: string
  let from: number | undefined
  let to: number | undefined
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        format: { type: 'string', default: 'parquet' },
        out: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'data-dir': { type: 'string' }
      }
    })
    if (!(EXPORT_FORMATS as readonly string[]).includes(values.format)) throw new IngestError('config_invalid', `--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(values.format)}`)
    if (values.out === undefined || values.out === '') throw new IngestError('config_invalid', '--out DIR is required')
    out = resolve(values.out)
    dataDir = values['data-dir'] ?? process.env.PROM_INGEST_DATA_DIR ?? './data'
    if (values.from !== undefined) from = parseTime(values.from)
    if (values.to !== undefined) to = parseTime(values.to)
    if (from !== undefined && to !== undefined && from >= to) throw new IngestError('config_invalid', '--from must be before --to')
  } catch (err) {
    process.stderr.write(`prom-ingest export: ${(err as Error).message}\n`)
    return 2
  }

  try {
    mkdirSync(out, { recursive: true })
    const file = join(out, 'samples.parquet')
    const where: string[] = []
    // Whole milliseconds, as integers: the bounds are interpolated, not user text.
    if (from !== undefined) where.push(`ts >= epoch_ms(${Math.trunc(from)}::BIGINT)`)
    if (to !== undefined) where.push(`ts < epoch_ms(${Math.trunc(to)}::BIGINT)`)
    const select = `SELECT metric, labels, tenant, series_id, ts, value, start_ts FROM samples_with_labels${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`
    const instance = await openDatabase(dataDir, { readOnly: true, externalAccess: true, errorCode: 'query_failed' })
    let rows: number
    try {
      const connection = await instance.connect()
      try {
        await useBlocks(connection, dataDir)
        const result = await connection.run(`COPY (${select}) TO ${quote(file)} (FORMAT parquet, COMPRESSION zstd)`)
        rows = result.rowsChanged
      } finally {
        connection.closeSync()
      }
    } finally {
      instance.closeSync()
    }
    process.stderr.write(`prom-ingest export: ${rows} samples written to ${file}\n`)
    return 0
  } catch (err) {
    process.stderr.write(`prom-ingest export: ${toIngestError(err).message.split('\n')[0]}\n`)
    return 1
  }
}
