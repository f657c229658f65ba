/**
 * The status page's files (index.html, app.js, app.css in this folder), read once at start-up and
 * served from memory. The build copies them beside the compiled code (scripts/copy-ui.mjs); run from
 * the sources, or from a dist/ built by tsc alone, they are read from src/ui/.
 *
 * The page loads nothing from elsewhere: no CDN, no fonts; its script and style are these two files,
 * same-origin, as the Content-Security-Policy below demands.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Asset {
  readonly body: Buffer
  readonly contentType: string
  readonly etag: string
}

/**
 * Script and style only from this origin (no inline script, no inline handler, no eval), data only
 * from this origin, no frames, no forms, no plugins.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8'
}

function fileOf (name: string): string {
  const beside = fileURLToPath(new URL('./' + name, import.meta.url))
  if (existsSync(beside)) return beside
  // dist/src/ui/ built by tsc alone (the test helpers' build): the sources are two levels up.
  return fileURLToPath(new URL('../../../src/ui/' + name, import.meta.url))
}

let loaded: Map<string, Asset> | undefined

/** The page's files by name (index.html, app.js, app.css). */
export function uiAssets (): Map<string, Asset> {
  if (loaded !== undefined) return loaded
  const out = new Map<string, Asset>()
  for (const [name, contentType] of Object.entries(TYPES)) {
    const body = readFileSync(fileOf(name))
    out.set(name, { body, contentType, etag: '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"' })
  }
  loaded = out
  return out
}
