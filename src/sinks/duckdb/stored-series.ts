/**
 * Which series ids have a row in the `series` table: a bitmap, one bit per id, owned by the thread
 * that writes the store.
 *
 * A batch may reference a series whose labels it does not carry (another worker saw it first, and
 * that batch is in another transaction, or failed); the writer asks this set, and inserts the series
 * row in the same transaction as the rows that reference it. Marks made by a transaction are
 * remembered under its number, so that its rollback takes them back and the set never claims a row
 * that was not committed. (A transaction may rely on a mark of an earlier one still committing; the
 * group committer fails it when that earlier one fails.)
 */
export class StoredSeries {
  private bits = new Uint32Array(1 << 15) // 1M ids before the first growth
  private readonly marked = new Map<number, number[]>() // transaction -> ids it marked
  private count = 0

  get size (): number { return this.count }

  has (id: number): boolean {
    const word = id >>> 5
    return word < this.bits.length && (this.bits[word]! & (1 << (id & 31))) !== 0
  }

  /** Marks an id as stored by transaction `txn` (not committed yet). */
  mark (id: number, txn: number): void {
    const word = id >>> 5
    if (word >= this.bits.length) this.grow(word + 1)
    const bit = 1 << (id & 31)
    if ((this.bits[word]! & bit) !== 0) return
    this.bits[word]! |= bit
    let list = this.marked.get(txn)
    if (list === undefined) { list = []; this.marked.set(txn, list) }
    list.push(id)
    this.count++
  }

  /** Marks an id whose row is already committed (loading at start-up). */
  markCommitted (id: number): void {
    const word = id >>> 5
    if (word >= this.bits.length) this.grow(word + 1)
    const bit = 1 << (id & 31)
    if ((this.bits[word]! & bit) !== 0) return
    this.bits[word]! |= bit
    this.count++
  }

  /** Forgets an id whose row was deleted (retention). */
  unmark (id: number): void {
    const word = id >>> 5
    const bit = 1 << (id & 31)
    if (word < this.bits.length && (this.bits[word]! & bit) !== 0) {
      this.bits[word]! &= ~bit
      this.count--
    }
  }

  /** Transaction `txn` committed: its marks stand. */
  commit (txn: number): void {
    this.marked.delete(txn)
  }

  /** Transaction `txn` rolled back: take its marks back. */
  rollback (txn: number): void {
    for (const id of this.marked.get(txn) ?? []) this.unmark(id)
    this.marked.delete(txn)
  }

  private grow (words: number): void {
    let size = this.bits.length
    while (size < words) size *= 2
    const next = new Uint32Array(size)
    next.set(this.bits)
    this.bits = next
  }
}
