import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CODES, IngestError, httpStatusOf, toIngestError } from '../src/errors.js'

describe('error codes', () => {
  it('are listed in the README with the status and retry advice the code table gives', () => {
    // The README's table, and the tables of docs/*.md (docs/query.md lists the query route's codes).
    const docs = new URL('../docs/', import.meta.url)
    const readme = [new URL('../README.md', import.meta.url), ...readdirSync(docs).filter(f => f.endsWith('.md')).map(f => new URL(f, docs))].map(f => readFileSync(f, 'utf8')).join('\n')
    const rows = new Map<string, [number, string]>()
    for (const m of readme.matchAll(/^\| `([a-z0-9_]+)` \| (\d{3}) \| (yes|no) \|/gm)) rows.set(m[1]!, [Number(m[2]), m[3]!])
    for (const [code, info] of Object.entries(CODES)) {
      expect(rows.get(code), `README row for ${code}`).toEqual([info.status, info.retryable ? 'yes' : 'no'])
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(CODES).sort())
  })

  it('retry exactly the 5xx answers and a 429 (config_invalid stops the start-up, it is never an answer)', () => {
    for (const [code, info] of Object.entries(CODES)) {
      if (code === 'config_invalid') continue
      expect(info.retryable, code).toBe(info.status >= 500 || info.status === 429)
    }
    expect(CODES.config_invalid.retryable).toBe(false)
  })

  it('cross threads as data and come back with their code', () => {
    const e = new IngestError('labels_duplicate', 'series 3 up{}: label name "job" occurs more than once', { series: 3 })
    const back = IngestError.fromWire(structuredClone(e.toWire()))
    expect(back).toBeInstanceOf(IngestError)
    expect(back.code).toBe('labels_duplicate')
    expect(back.status).toBe(400)
    expect(back.detail).toEqual({ series: 3 })
    expect(toIngestError(new Error('boom')).code).toBe('internal')
    expect(toIngestError({ code: 'saturated', message: 'full' }).status).toBe(httpStatusOf('saturated'))
  })
})
