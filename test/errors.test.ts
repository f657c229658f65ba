import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { errorRow } from '../src/docs/reference-tables.js'
import { CODES, IngestError, toIngestError, type ErrorCode } from '../src/errors.js'

/** docs/errors.md's table: code -> [status, retry, description], and the codes in the order listed. */
function documentedCodes (): Map<string, [number, string, string]> {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const rows = new Map<string, [number, string, string]>()
  for (const m of doc.matchAll(/^\| `([a-z0-9_]+)` \| (\d{3}) \| (yes|no) \| (.*) \|$/gm)) {
    expect(rows.has(m[1]!), `docs/errors.md lists ${m[1]} twice`).toBe(false)
    rows.set(m[1]!, [Number(m[2]), m[3]!, m[4]!])
  }
  return rows
}

describe('error codes', () => {
  it('are listed in docs/errors.md with the status, retry advice and description the code table gives', () => {
    const rows = documentedCodes()
    for (const [code, info] of Object.entries(CODES)) {
      const row = errorRow(code as ErrorCode)
      expect(rows.get(code), `docs/errors.md needs the row: ${row}`).toEqual([info.status, info.retryable ? 'yes' : 'no', info.description])
    }
    expect([...rows.keys()].sort(), 'docs/errors.md lists exactly the codes of src/errors.ts').toEqual(Object.keys(CODES).sort())
  })

  it('retry exactly the 5xx and 429 answers (config_invalid stops the start-up, it is never an answer)', () => {
    // A 429 is retryable too: `tenant_max_ingestion_rate` has it in the table (503 through
    // tenant-rate-limit-status), `saturated` answers 429 through the saturation-status setting.
    for (const [code, info] of Object.entries(CODES)) {
      const status: number = info.status
      expect(status >= 400 && status <= 599, `${code}: ${status} is an error status`).toBe(true)
      if (code === 'config_invalid') continue
      expect(info.retryable, `${code} (${status})`).toBe(status >= 500 || status === 429)
    }
    expect(CODES.config_invalid.retryable).toBe(false)
    expect(CODES.saturated).toMatchObject({ status: 503, retryable: true })
  })

  it('cross threads as data and come back with their code', () => {
    const e = new IngestError('labels_duplicate', 'series 3 up{}: label name "job" occurs more than once', { series: 3 })
    const back = IngestError.fromWire(structuredClone(e.toWire()))
    expect(back).toBeInstanceOf(IngestError)
    expect(back.code).toBe('labels_duplicate')
    expect(back.message).toBe('series 3 up{}: label name "job" occurs more than once')
    expect(back.status).toBe(400)
    expect(back.retryable).toBe(false)
    expect(back.detail).toEqual({ series: 3 })
  })

  it('are rebuilt from plain objects that carry a known code; anything else becomes internal', () => {
    const plain = toIngestError({ code: 'saturated', message: 'full', detail: { waited: 2000 } })
    expect(plain).toBeInstanceOf(IngestError)
    expect(plain.code).toBe('saturated')
    expect(plain.message).toBe('full')
    expect(plain.detail).toEqual({ waited: 2000 })
    expect(plain.status).toBe(503)
    expect(plain.retryable).toBe(true)

    const same = new IngestError('sink_failed', 'disk full')
    expect(toIngestError(same)).toBe(same)

    const unknownCode = toIngestError({ code: 'no_such_code', message: 'x' })
    expect(unknownCode.code).toBe('internal')
    expect(IngestError.fromWire({ code: 'no_such_code' as never, message: 'y' }).code).toBe('internal')

    const thrown = toIngestError(new Error('boom'))
    expect(thrown.code).toBe('internal')
    expect(thrown.message).toBe('boom')
    expect(thrown.status).toBe(500)
    expect(toIngestError('text').message).toBe('text')
  })
})
