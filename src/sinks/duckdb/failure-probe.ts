/**
 * One way the DuckDB sink can fail (its commits, or appends to its store log), for /readyz: since when
 * it has failed, and a probe that looks for the end of the failure every quarter of sink-unready-after
 * (0.25 to 5 s), since a sink that is not ready gets no writes to find out by (docs/readiness.md).
 */
export class FailureProbe {
  /** Since when it fails (performance.now() ms); undefined while it works. */
  private since: number | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  /**
   * `check` resolves when the failure is over (rejects while it lasts); `recovered` is told how long it
   * lasted. `unreadyAfterMs` 0: the failure never makes the sink unready (the probe still runs).
   */
  constructor (
    private readonly unreadyAfterMs: number,
    private readonly check: () => Promise<void>,
    private readonly recovered: (failedForMs: number) => void
  ) {}

  /** It failed: note since when, and probe until it works again. */
  failed (): void {
    this.since ??= performance.now()
    if (this.timer !== undefined || this.stopped) return
    const after = this.unreadyAfterMs
    const every = Math.max(250, Math.min(5_000, after > 0 ? Math.floor(after / 4) : 5_000))
    const probe = (): void => {
      this.timer = undefined
      if (this.since === undefined || this.stopped) return
      this.check().then(() => this.worked(), () => {
        if (this.since === undefined || this.stopped) return
        this.timer = setTimeout(probe, every)
        this.timer.unref()
      })
    }
    this.timer = setTimeout(probe, every)
    this.timer.unref()
  }

  /** It worked (a commit, an append, or the probe). */
  worked (): void {
    if (this.since !== undefined) this.recovered(Math.round(performance.now() - this.since))
    this.since = undefined
  }

  /** Whether it has failed for sink-unready-after by `now`. */
  unready (now = performance.now()): boolean {
    return this.since !== undefined && this.unreadyAfterMs > 0 && now - this.since >= this.unreadyAfterMs
  }

  /** No more probes (the sink closes). */
  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
