/**
 * Runs a CLI command in this process (e.g. runQuery) and captures what it writes to stdout and
 * stderr, with its exit code; the streams are restored afterwards, even when the command throws.
 */
import { vi } from 'vitest'

export interface CliOutput {
  readonly code: number
  readonly out: string
  readonly err: string
}

export async function captureCli (run: () => Promise<number>): Promise<CliOutput> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    const code = await run()
    return { code, out: out.mock.calls.map(c => String(c[0])).join(''), err: err.mock.calls.map(c => String(c[0])).join('') }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}
