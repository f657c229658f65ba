/**
 * The request body a benchmark works on: the file given with `--template FILE` (any uncompressed
 * Remote Write 1.0 body), or by default the generated 10,000-series node_exporter body
 * (test/fixtures/node-exporter-body.ts: seeded, the same bytes on every machine). Nothing is read
 * from outside the repository unless a FILE says so.
 */
import { readFileSync } from 'node:fs'
import { DEFAULT_SEED, nodeExporterBody } from '../../test/fixtures/node-exporter-body.js'

export interface TemplateBody {
  readonly body: Uint8Array
  /** For reports: the file, or which generated body. */
  readonly name: string
}

export function templateBody (file?: string): TemplateBody {
  if (file !== undefined) return { body: new Uint8Array(readFileSync(file)), name: file }
  return { body: nodeExporterBody().body, name: `generated node_exporter body (seed ${DEFAULT_SEED})` }
}

/** The value of `--template FILE` in argv, if given. */
export function templateArg (argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf('--template')
  if (i < 0) return undefined
  const file = argv[i + 1]
  if (file === undefined || file.startsWith('--')) throw new Error('--template needs a FILE')
  return file
}
