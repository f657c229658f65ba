#!/usr/bin/env node
// Copies the status page's files (src/ui/*.html, *.js, *.css) beside the compiled code in dist/src/ui/,
// which `files` in package.json ships. Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'

const from = new URL('../src/ui/', import.meta.url)
const to = new URL('../dist/src/ui/', import.meta.url)
mkdirSync(to, { recursive: true })
for (const name of readdirSync(from)) {
  if (/\.(html|js|css)$/.test(name)) copyFileSync(new URL(name, from), new URL(name, to))
}
