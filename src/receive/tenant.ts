/**
 * The tenant of a write request, from the tenant header (X-Scope-OrgID unless configured otherwise),
 * checked with the rule Grafana Mimir uses (dskit `tenant.ValidTenantID`): at most 150 characters,
 * each one of a-z A-Z 0-9 ! - _ . * ' ( ), and not `.` or `..`. The header must occur at most once.
 *
 * Node reads header bytes as latin1, so a UTF-8 tenant would otherwise be stored garbled; two headers
 * would be joined into "a, b". Both are refused instead (400 tenant_invalid). The bound also bounds
 * what a tenant costs: its bytes prefix every series key it owns (docs/security.md).
 */
import type { IncomingMessage } from 'node:http'
import { IngestError } from '../errors.js'

/** Longest tenant, in characters (all of them ASCII, so also bytes). Mimir's MaxTenantIDLength. */
export const MAX_TENANT_LENGTH = 150

/** Allowed characters by char code (a lookup table: one load per character). */
const ALLOWED = new Uint8Array(128)
for (const range of ['az', 'AZ', '09']) {
  for (let c = range.charCodeAt(0); c <= range.charCodeAt(1); c++) ALLOWED[c] = 1
}
for (const c of "!-_.*'()") ALLOWED[c.charCodeAt(0)] = 1

/** The reason `tenant` is not a valid tenant, or undefined when it is one. */
export function tenantProblem (tenant: string): string | undefined {
  if (tenant === '') return 'is empty'
  if (tenant.length > MAX_TENANT_LENGTH) return `is ${tenant.length} characters long, more than ${MAX_TENANT_LENGTH}`
  for (let i = 0; i < tenant.length; i++) {
    const c = tenant.charCodeAt(i)
    if (c >= 128 || ALLOWED[c] === 0) {
      // Bytes >= 0x80 arrive as latin1 characters: a UTF-8 tenant shows here as its first non-ASCII byte.
      const shown = c >= 0x21 && c < 0x7f ? `'${tenant[i]!}'` : `byte 0x${c.toString(16).padStart(2, '0')}`
      return `has ${shown} at position ${i}; allowed are a-z A-Z 0-9 ! - _ . * ' ( )`
    }
  }
  if (tenant === '.' || tenant === '..') return `is '${tenant}'`
  return undefined
}

/**
 * The request's tenant: '' without the header (or with tenants disabled, `header` ''), the header's
 * value when it is valid, an IngestError('tenant_invalid') naming the reason otherwise.
 */
export function tenantOf (req: IncomingMessage, header: string): string | IngestError {
  if (header === '') return ''
  const values = req.headersDistinct[header]
  if (values === undefined) return ''
  if (values.length !== 1) return new IngestError('tenant_invalid', `the ${header} header occurs ${values.length} times; send one tenant`)
  const tenant = values[0]!
  const problem = tenantProblem(tenant)
  if (problem === undefined) return tenant
  const quoted = tenant.length > 64 ? JSON.stringify(tenant.slice(0, 64)) + '...' : JSON.stringify(tenant)
  return new IngestError('tenant_invalid', `the tenant in the ${header} header, ${quoted}, ${problem}`)
}
