/**
 * What the forward worker tells the main thread as it goes: each destination's newest commit and the
 * send figures of every relay (figures-relay.ts), in one 'progress' message per turn of the event
 * loop. A record's commit and its figures would otherwise be two messages, and each wakes the main
 * thread. A later commit of a destination replaces an earlier one not yet sent (the main thread keeps
 * the newest).
 */
import type { FiguresDelta, FiguresRelay } from './figures-relay.js'
import type { FromWorker } from './worker-protocol.js'

export class WorkerProgress {
  private commits = new Map<string, number>()
  private readonly relays: FiguresRelay[] = []
  private scheduled = false

  constructor (private readonly post: (m: FromWorker) => void) {}

  /** Adds a relay whose figures go out with the commits; returns it. */
  relay (r: FiguresRelay): FiguresRelay {
    this.relays.push(r)
    return r
  }

  commit (name: string, position: number): void {
    this.commits.set(name, position)
    this.changed()
  }

  /** Something is new (a commit, or a relay's figures): a message goes at the end of this turn. */
  changed (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  /** Posts what is new now, if anything. */
  flush (): void {
    this.scheduled = false
    const figures: FiguresDelta[] = []
    for (const r of this.relays) {
      const d = r.take()
      if (d !== undefined) figures.push(d)
    }
    if (this.commits.size === 0 && figures.length === 0) return
    const m: FromWorker = { t: 'progress', commits: [...this.commits], figures }
    this.commits = new Map()
    this.post(m)
  }
}
