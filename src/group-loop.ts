/**
 * The loop behind a group of waiting work (the store's group commit, the forward queue's group fsync):
 * at most one run at a time, started again while work waits; its waits can be cut short (`wake`), and
 * `drain` asks for the work at once and resolves when the loop is idle.
 */
export class GroupLoop {
  /** Set while `drain` runs: the loop should not wait for more work to join a group. */
  urgent = false
  private running: Promise<void> | undefined
  private wakeUp: (() => void) | undefined

  /** `run` does the waiting work; `waiting` says whether more came meanwhile. */
  constructor (private readonly run: () => Promise<void>, private readonly waiting: () => boolean) {}

  start (): void {
    if (this.running !== undefined) return
    this.running = this.run().finally(() => {
      this.running = undefined
      if (this.waiting()) this.start()
    })
  }

  /** Ends the current wait (`sleep` or `until`) now. */
  wake (): void { this.wakeUp?.() }

  /** Runs what waits without delay; resolves when nothing runs. */
  async drain (): Promise<void> {
    this.urgent = true
    try {
      this.wake()
      while (this.running !== undefined) await this.running
    } finally {
      this.urgent = false
    }
  }

  /** Waits `ms`, or until woken. */
  async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, ms)
      this.wakeUp = () => { clearTimeout(timer); resolve() }
    })
    this.wakeUp = undefined
  }

  /** Waits for `p`, or until woken; true when `p` settled first. */
  async until (p: Promise<unknown>): Promise<boolean> {
    const ended = await Promise.race([p.then(() => true), new Promise<false>(resolve => { this.wakeUp = () => resolve(false) })])
    this.wakeUp = undefined
    return ended
  }
}
