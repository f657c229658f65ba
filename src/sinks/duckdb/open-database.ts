/**
 * Opening the database file of a data directory, and creating its schema on first use.
 *
 * One process may open the file for writing (DuckDB locks it); a second process cannot open it at
 * all while the writer has it, not even read-only. That is why `prom-ingest query` goes through the
 * running service's HTTP route when there is one.
 */
import { mkdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { IngestError, type ErrorCode } from '../../errors.js'
import { blocksDir } from './blocks/block-files.js'
import { migrationStatements, SCHEMA_VERSION, schemaStatements } from './schema.js'

export const DB_FILE = 'prom-ingest.duckdb'

export function databaseFile (dataDir: string): string {
  return join(dataDir, DB_FILE)
}

export interface OpenDatabaseOptions {
  /** Open without writing (queries, export); the file must exist. */
  readOnly?: boolean
  /** Allow SQL to read and write files (COPY ... TO for export). Off for the service and for queries. */
  externalAccess?: boolean
  /** DuckDB's memory limit, e.g. '256MB'. */
  memoryLimit?: string
  /** DuckDB worker threads (default: DuckDB's own, the number of cores). */
  threads?: number
  /** WAL size that triggers a checkpoint, e.g. '64MB'. */
  checkpointThreshold?: string
  /** Error code used when the file cannot be opened. */
  errorCode?: ErrorCode
}

/** Opens (and for writers creates) the database of `dataDir`. */
export async function openDatabase (dataDir: string, o: OpenDatabaseOptions = {}): Promise<DuckDBInstance> {
  const file = databaseFile(dataDir)
  const code = o.errorCode ?? 'sink_failed'
  if (o.readOnly === true) {
    if (!existsSync(file)) throw new IngestError(code, `there is no prom-ingest database at ${file} (check --data-dir)`)
  } else {
    mkdirSync(dataDir, { recursive: true })
  }
  const config: Record<string, string> = {
    access_mode: o.readOnly === true ? 'READ_ONLY' : 'READ_WRITE'
  }
  if (o.memoryLimit !== undefined) config.memory_limit = o.memoryLimit
  if (o.threads !== undefined) config.threads = String(o.threads)
  if (o.checkpointThreshold !== undefined) config.checkpoint_threshold = o.checkpointThreshold
  try {
    const instance = await DuckDBInstance.create(file, config)
    if (o.externalAccess !== true) await restrictFiles(instance, dataDir)
    return instance
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!
    if (/lock/i.test(message)) {
      throw new IngestError(code, `the database ${file} is open in another process (a running prom-ingest service?): ${message}`, { file })
    }
    throw new IngestError(code, `cannot open the database ${file}: ${message}`, { file })
  }
}

/**
 * No file access from SQL, except the store's own blocks (read_parquet in the views, COPY by
 * compaction: docs/store.md). DuckDB takes allowed_directories only as a SET, not at create, so
 * the settings are made here, on a connection of their own, before anything else runs.
 */
async function restrictFiles (instance: DuckDBInstance, dataDir: string): Promise<void> {
  const connection = await instance.connect()
  try {
    await connection.run(`SET allowed_directories = ['${blocksDir(dataDir).replace(/'/g, "''")}/']`)
    await connection.run('SET parquet_metadata_cache = true') // blocks never change once written: their footers are read once
    await connection.run('SET enable_external_access = false')
    await connection.run('SET lock_configuration = true')
  } catch (err) {
    instance.closeSync()
    throw err
  } finally {
    connection.closeSync()
  }
}

/** Creates the tables on a new database; checks the schema version of an existing one. */
export async function ensureSchema (connection: DuckDBConnection): Promise<{ created: boolean }> {
  const found = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'prom_ingest_schema' AND schema_name = 'main'")
  if (Number(found.getRows()[0]?.[0] ?? 0) > 0) {
    const v = await connection.runAndReadAll('SELECT max(version) FROM prom_ingest_schema')
    const version = Number(v.getRows()[0]?.[0] ?? 0)
    if (version > SCHEMA_VERSION) {
      throw new IngestError('config_invalid', `the database was written by a newer prom-ingest (schema ${version}, this one knows ${SCHEMA_VERSION})`)
    }
    if (version < SCHEMA_VERSION) await inTransaction(connection, migrationStatements(version))
    return { created: false }
  }
  await inTransaction(connection, schemaStatements())
  return { created: true }
}

async function inTransaction (connection: DuckDBConnection, statements: string[]): Promise<void> {
  await connection.run('BEGIN TRANSACTION')
  try {
    for (const sql of statements) await connection.run(sql)
    await connection.run('COMMIT')
  } catch (err) {
    try { await connection.run('ROLLBACK') } catch { /* nothing to undo */ }
    throw err
  }
}
