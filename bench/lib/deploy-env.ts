/**
 * The process environment that the container image gives the service (deploy/Dockerfile, the
 * runtime stage's ENV): the variables read once at process start that are not settings, such as
 * MALLOC_ARENA_MAX and NODE_OPTIONS. A benchmark starts the service with them so that it measures
 * what a deployment runs, and says so.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The project root, from dist/bench/lib/ (compiled) or bench/lib/ (sources). */
const ROOT = HERE.endsWith(join('dist', 'bench', 'lib')) ? resolve(HERE, '..', '..', '..') : resolve(HERE, '..', '..')
export const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile')

/** Every `KEY=value` of the last stage's ENV instructions (`\` continuations joined, comments dropped). */
export function imageEnv (dockerfile = DOCKERFILE): Record<string, string> {
  const lines = readFileSync(dockerfile, 'utf8').split('\n').filter(l => !l.trimStart().startsWith('#'))
  const joined = lines.join('\n').replace(/\\\n/g, ' ').split('\n')
  let env: Record<string, string> = {}
  for (const line of joined) {
    const [keyword, ...rest] = line.trim().split(/\s+/)
    if (keyword?.toUpperCase() === 'FROM') env = {}
    else if (keyword?.toUpperCase() === 'ENV') {
      for (const word of rest) {
        const eq = word.indexOf('=')
        if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1).replace(/^"(.*)"$/, '$1')
      }
    }
  }
  return env
}

/** The image's variables that shape the process itself (not settings, not NODE_ENV). */
export function processEnv (dockerfile = DOCKERFILE): Record<string, string> {
  return Object.fromEntries(Object.entries(imageEnv(dockerfile)).filter(([k]) => !k.startsWith('PROM_INGEST_') && k !== 'NODE_ENV'))
}
