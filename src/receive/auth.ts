/**
 * Request authentication: a bearer token, basic-auth credentials, both (either passes) or none.
 * Decided once at start-up: with no credentials configured the check is a constant `true`.
 * Comparisons take the same time whatever the mismatch (timingSafeEqual on digests).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export interface AuthSettings {
  readonly authBearerToken: string
  readonly authBasicUser: string
  readonly authBasicPassword: string
}

export interface Authenticator {
  /** Whether the request carries valid credentials (always true when auth is off). */
  check(req: IncomingMessage): boolean
  /** WWW-Authenticate challenges for a 401 answer. */
  readonly challenges: readonly string[]
  readonly enabled: boolean
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

export function createAuthenticator (s: AuthSettings): Authenticator {
  const accepted: Buffer[] = []
  const challenges: string[] = []
  if (s.authBearerToken !== '') {
    accepted.push(digest('Bearer ' + s.authBearerToken))
    challenges.push('Bearer realm="prom-ingest"')
  }
  if (s.authBasicUser !== '') {
    accepted.push(digest('Basic ' + Buffer.from(`${s.authBasicUser}:${s.authBasicPassword}`).toString('base64')))
    challenges.push('Basic realm="prom-ingest", charset="UTF-8"')
  }
  if (accepted.length === 0) return { check: () => true, challenges, enabled: false }
  return {
    challenges,
    enabled: true,
    check (req: IncomingMessage): boolean {
      const header = req.headers.authorization
      if (header === undefined) return false
      const got = digest(normalizeScheme(header.trim()))
      let ok = false
      for (const want of accepted) ok = timingSafeEqual(got, want) || ok
      return ok
    }
  }
}

/** Scheme names are case-insensitive (RFC 9110): `bearer x` is `Bearer x`. */
function normalizeScheme (header: string): string {
  const sp = header.indexOf(' ')
  if (sp < 0) return header
  const scheme = header.slice(0, sp).toLowerCase()
  const rest = header.slice(sp + 1).trim()
  if (scheme === 'bearer') return 'Bearer ' + rest
  if (scheme === 'basic') return 'Basic ' + rest
  return header
}
