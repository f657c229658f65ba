/**
 * Asks a running service's store: GET /api/v1/query with JSON rows back. For tests that check what a
 * real process stored while it runs (reads are open when no auth is configured).
 */
import { request } from 'undici'

export async function queryRows (url: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const res = await request(`${url}/api/v1/query?format=json&query=${encodeURIComponent(sql)}`)
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`query answered ${res.statusCode}: ${text}`)
  return JSON.parse(text) as Array<Record<string, unknown>>
}
