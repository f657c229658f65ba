/**
 * Request authentication: a bearer token, basic-auth credentials, both (either passes) or none.
 * Decided once at start-up: with no credentials configured the check is a constant `true`.
 * Comparisons take the same time whatever the mismatch (timingSafeEqual on digests).
 *
 * Reads (the query route, SQL over every tenant) have their own credential, a bearer token
 * (auth-read-bearer-token[-file]), so that a sender's write credentials cannot read:
 *
 *   read token set                      the read token reads; write credentials get 403, others 401
 *   no read token, write auth set       the query route is closed: 403 forbidden, naming the setting
 *   no read token, no write auth        open, as everything else is
 *
 * The read token opens nothing else (least privilege): writes and /metrics take the write credentials.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { IngestError } from '../errors.js'

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

export interface ReadAuthSettings {
  readonly authReadBearerToken: string
}

export interface ReadAuthenticator {
  /** Undefined when the request may read; otherwise the error to answer (unauthorized or forbidden). */
  check(req: IncomingMessage): IngestError | undefined
  readonly enabled: boolean
}

export function createReadAuthenticator (s: ReadAuthSettings, write: Authenticator): ReadAuthenticator {
  if (s.authReadBearerToken === '') {
    if (!write.enabled) return { check: () => undefined, enabled: false }
    return {
      enabled: true,
      check: () => new IngestError('forbidden', 'the query route is closed: write auth is on and no read credential is configured (set auth-read-bearer-token or auth-read-bearer-token-file; the write credentials cannot read)')
    }
  }
  const want = digest('Bearer ' + s.authReadBearerToken)
  return {
    enabled: true,
    check (req: IncomingMessage): IngestError | undefined {
      const header = req.headers.authorization
      if (header !== undefined && timingSafeEqual(digest(normalizeScheme(header.trim())), want)) return undefined
      if (header !== undefined && write.enabled && write.check(req)) {
        return new IngestError('forbidden', 'these are write credentials, which cannot read: the query route takes the read bearer token (auth-read-bearer-token)')
      }
      return new IngestError('unauthorized', 'missing or wrong read credentials: the query route takes the read bearer token')
    }
  }
}
