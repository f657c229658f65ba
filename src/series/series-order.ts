/**
 * The order in which senders send their series, remembered by one thread: for each series id, the id
 * of the series that came right after it the last time this thread walked it (0 for the start of a
 * body). A sender writes its series in the same order request after request (Prometheus' shards,
 * vmagent, the same scrape targets), so the series after a known series is nearly always the one it
 * was last time, and the walker checks that guess by comparing bytes with its stored key before it
 * hashes anything (series-index.ts `keyMatches`).
 *
 * A guess is only a guess: it is used when the bytes are equal, so a wrong or stale one costs one
 * comparison, never a wrong series. Plain memory, one thread's own; grows by doubling with the ids it
 * sees (4 bytes per id up to the highest id seen), never beyond max-series.
 */
export class SeriesOrder {
  /** next[id] = the id that followed `id` last time; next[0] = the first series of the last body. */
  private next = new Int32Array(4096)

  /** The series that followed `prev` last time (0: none known). */
  guess (prev: number): number {
    return prev < this.next.length ? this.next[prev]! : 0
  }

  /** Remembers that `id` followed `prev`. */
  follow (prev: number, id: number): void {
    if (prev >= this.next.length) this.grow(prev)
    this.next[prev] = id
  }

  private grow (id: number): void {
    let n = this.next.length * 2
    while (n <= id) n *= 2
    const next = new Int32Array(n)
    next.set(this.next)
    this.next = next
  }
}
