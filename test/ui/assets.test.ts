/**
 * The status page's files as the service carries them (src/ui/embedded-assets.ts) are the files in
 * src/ui/ as written: `npm run ui:embed` after changing one of them.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EMBEDDED_UI } from '../../src/ui/embedded-assets.js'
import { uiAssets } from '../../src/ui/assets.js'

describe('the status page\'s embedded files', () => {
  it('are the files in src/ui/ (run `npm run ui:embed` if not)', () => {
    for (const name of ['index.html', 'app.js', 'app.css']) {
      expect(EMBEDDED_UI[name], `${name}: run npm run ui:embed`).toBe(readFileSync(new URL(`../../src/ui/${name}`, import.meta.url), 'utf8'))
      expect(uiAssets().get(name)!.body.toString('utf8')).toBe(EMBEDDED_UI[name])
    }
  })
})
