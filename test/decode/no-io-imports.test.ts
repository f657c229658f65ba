/**
 * src/decode/ is pure (bytes in, a row batch out, in a worker): the linter refuses I/O imports there
 * (biome.json, noRestrictedImports for src/decode/**), and allows them elsewhere. Checked by linting
 * probe files laid out like the repository, under the repository's own biome.json.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const BIOME = fileURLToPath(new URL('../../node_modules/@biomejs/biome/bin/biome', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'prom-ingest-lint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// The repository's config, minus the git integration (the probe folder is no repository).
const config = JSON.parse(readFileSync(new URL('../../biome.json', import.meta.url), 'utf8')) as Record<string, unknown>
delete config.vcs
delete config.$schema
writeFileSync(join(dir, 'biome.json'), JSON.stringify(config))

function lint (path: string, text: string): { status: number | null, out: string } {
  mkdirSync(dirname(join(dir, path)), { recursive: true })
  writeFileSync(join(dir, path), text)
  const r = spawnSync(process.execPath, [BIOME, 'lint', '--error-on-warnings', path], { cwd: dir, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('no I/O imports in src/decode/', () => {
  for (const mod of ['node:fs', 'node:net', 'node:http', 'node:worker_threads', 'undici', 'fs']) {
    it(`refuses ${mod} in src/decode/, allows it in src/receive/`, () => {
      const text = `import * as m from '${mod}'\nexport const probe = m\n`
      const refused = lint('src/decode/probe.ts', text)
      expect(refused.status).not.toBe(0)
      expect(refused.out).toContain('noRestrictedImports')
      expect(refused.out).toContain('src/decode/ is pure')
      expect(lint('src/receive/probe.ts', text)).toMatchObject({ status: 0 })
    })
  }

  it('allows what decode needs (its siblings and the error table)', () => {
    expect(lint('src/decode/probe.ts', "import { IngestError } from '../errors.js'\nexport const probe = IngestError\n")).toMatchObject({ status: 0 })
  })
})
