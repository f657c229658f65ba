/**
 * The status page's files, served from memory. Their sources are index.html, app.js and app.css in
 * this folder; scripts/embed-ui.mjs embeds them in embedded-assets.ts, so the compiled service carries
 * them and reads nothing at run time (test/ui/assets.test.ts keeps the two in step).
 *
 * The page loads nothing from elsewhere: no CDN, no fonts; its script and style are these two files,
 * same-origin, as the Content-Security-Policy below demands.
 */
import { createHash } from 'node:crypto'
import { EMBEDDED_UI } from './embedded-assets.js'

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

let made: Map<string, Asset> | undefined

/** The page's files by name (index.html, app.js, app.css). */
export function uiAssets (): Map<string, Asset> {
  if (made !== undefined) return made
  const out = new Map<string, Asset>()
  for (const [name, contentType] of Object.entries(TYPES)) {
    const body = Buffer.from(EMBEDDED_UI[name]!, 'utf8')
    out.set(name, { body, contentType, etag: '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"' })
  }
  made = out
  return out
}
