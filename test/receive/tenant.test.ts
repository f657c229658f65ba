import { describe, expect, it } from 'vitest'
import { MAX_TENANT_LENGTH, tenantProblem } from '../../src/receive/tenant.js'

describe('tenantProblem (Mimir\'s rule)', () => {
  it('accepts every allowed character and the longest tenant', () => {
    let all = ''
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c)
      if (/[a-zA-Z0-9]/.test(ch) || "!-_.*'()".includes(ch)) all += ch
    }
    expect(all).toHaveLength(26 + 26 + 10 + 8)
    expect(tenantProblem(all)).toBeUndefined()
    expect(tenantProblem('t'.repeat(MAX_TENANT_LENGTH))).toBeUndefined()
    expect(tenantProblem('...')).toBeUndefined()
  })

  it('refuses every other character, with its position', () => {
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c)
      if (/[a-zA-Z0-9]/.test(ch) || "!-_.*'()".includes(ch)) continue
      expect(tenantProblem(`ab${ch}`), `char ${c}`).toMatch(/at position 2/)
    }
    expect(tenantProblem('\u00c3\u00a9')).toMatch(/byte 0xc3 at position 0/)
  })

  it('refuses the empty tenant, "." and "..", and one character too many', () => {
    expect(tenantProblem('')).toBe('is empty')
    expect(tenantProblem('.')).toBe("is '.'")
    expect(tenantProblem('..')).toBe("is '..'")
    expect(tenantProblem('t'.repeat(MAX_TENANT_LENGTH + 1))).toMatch(/151 characters long/)
  })
})
