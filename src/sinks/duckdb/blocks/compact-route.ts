/**
 * `POST /api/v1/admin/compact[?all=true]`: compacts the head into blocks now, and answers when it is
 * done with what it did as JSON (ranges, blocks, rows, headRows, bytes, durationMs). Behind the
 * write credentials (it changes where rows live, not what they are). `all=true` compacts the open
 * window too (see compaction.ts); without it, closed windows only. `prom-ingest compact` calls it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { IngestError } from '../../../errors.js'
import type { HttpRoute } from '../../../receive/server.js'
import type { CompactRequest } from './block-maintenance.js'
import type { CompactionResult } from './compaction.js'

export const COMPACT_PATH = '/api/v1/admin/compact'

export interface CompactSink {
  compact(request?: CompactRequest): Promise<CompactionResult>
}

export function compactRoutes (sink: CompactSink): HttpRoute[] {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const all = new URL(req.url ?? '/', 'http://localhost').searchParams.get('all')
    if (all !== null && all !== 'true' && all !== 'false') throw new IngestError('parameter_invalid', `all must be true or false, got ${JSON.stringify(all)}`)
    req.resume() // a body, if any, is not read
    const result = await sink.compact({ all: all === 'true' })
    res.statusCode = 200
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ ...result, durationMs: Math.round(result.durationMs) }))
  }
  return [{ method: 'POST', path: COMPACT_PATH, access: 'write', handle }]
}
