/**
 * The series index: canonical label bytes -> series id, one per process, shared by every decode
 * worker through SharedArrayBuffers, so a series gets the same id in every worker for the life of
 * the process.
 *
 * Layout (each buffer written as noted; ids start at 1, 0 means "none"):
 *
 *   header  Int32Array(HEADER_WORDS), SharedArrayBuffer
 *     [LAST_ID]    highest id handed out             Atomics.add by the inserting thread
 *     [ARENA_TOP]  bytes of the arena in use         Atomics.add by the inserting thread
 *     [COUNT]      series stored                     Atomics.add by the inserting thread
 *     [WAITERS]    threads sleeping on a slot         Atomics.add/sub by the waiting thread
 *   table   Int32Array(slots), open addressing with linear probing; one 32-bit word per slot (the
 *           table is the one randomly accessed structure, and every page of it is touched once some
 *           thousands of series are known, so it is kept as small as can be: 8 MiB at 1M max-series):
 *             0 empty, -1 being written, > 0 published (Atomics.store, last): the series id in the
 *             low bits (as many as max-series needs), the top bits of hash lane 2 above them (lane
 *             1 chose the slot), so that most keys that differ are told apart without the arena.
 *   offsets Uint32Array(maxSeries + 2): arena offset of each id's entry     written once, before publish
 *   lengths Uint32Array(maxSeries + 2): key length of each id                written once, before publish
 *   arena   Uint8Array: the entries, append-only, each at a multiple of 4: the key length (uint32 LE),
 *           then the key: the tenant prefix (0x7a varint(len) tenant, absent for no tenant) followed by
 *           the canonical label bytes (src/series/labels.ts).
 *
 * A thread that finds state -1 waits for the publish; a claimed slot is published (or given back as
 * empty when the index is full) within a few microseconds. Slots are never deleted: the index only
 * grows, up to `maxSeries` series or until the arena is full. After that `findOrInsert` refuses new
 * series (it returns 0 and says why in `refusal`); known series are still found. A key that does not
 * fit the arena gives its bytes back, so a shorter one may still fit after it.
 */
import { IngestError } from '../errors.js'
import { bytesEqual, hashLabels, hashOut, tenantSeed } from './label-hash.js'
import { decodeLabels, type Labels } from './labels.js'
import { readVarint, skipVarint, varintSize, writeVarint } from './varint.js'

const LAST_ID = 0
const ARENA_TOP = 1
const COUNT = 2
const WAITERS = 3
const HEADER_WORDS = 4
const WRITING = -1

export interface SeriesIndexOptions {
  /** Most series the index can hold (default 1,048,576). */
  maxSeries?: number
  /** Bytes for label keys (default 256 per series). Reserved, not resident: pages are touched as series arrive. */
  arenaBytes?: number
}

/** Arena bytes per series when no arena size is given. */
export const DEFAULT_ARENA_BYTES_PER_SERIES = 256
/** Largest arena: entry offsets are uint32, and a typed array over more than 2 GiB is not portable. */
export const MAX_ARENA_BYTES = 2 ** 31

/** The arena size for `maxSeries` series when none is configured. */
export function defaultArenaBytes (maxSeries: number): number {
  return Math.min(maxSeries * DEFAULT_ARENA_BYTES_PER_SERIES, MAX_ARENA_BYTES)
}

/** Bytes a key of `keyBytes` takes in the arena (length word, key, padding to 4). */
export function arenaEntryBytes (keyBytes: number): number {
  return (4 + keyBytes + 3) & ~3
}

/** The SharedArrayBuffers of an index, as posted to workers. */
export interface SeriesIndexShared {
  readonly header: SharedArrayBuffer
  readonly table: SharedArrayBuffer
  readonly offsets: SharedArrayBuffer
  readonly lengths: SharedArrayBuffer
  readonly arena: SharedArrayBuffer
}

/** A tenant's part of series identity, computed once per request. */
export interface TenantKey {
  readonly tenant: string
  readonly seed: number
  /** Bytes that precede the labels in the stored key (empty for no tenant). */
  readonly prefix: Uint8Array
  readonly prefixView: DataView
}

const tenantKeys = new Map<string, TenantKey>()
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { ignoreBOM: true }) // a tenant starting with U+FEFF keeps it

export function tenantKey (tenant: string): TenantKey {
  let key = tenantKeys.get(tenant)
  if (key === undefined) {
    let prefix = new Uint8Array(0)
    if (tenant !== '') {
      const t = encoder.encode(tenant)
      prefix = new Uint8Array(1 + varintSize(t.length) + t.length)
      prefix[0] = 0x7a
      prefix.set(t, writeVarint(prefix, 1, t.length))
    }
    key = { tenant, seed: tenantSeed(tenant), prefix, prefixView: new DataView(prefix.buffer) }
    if (tenantKeys.size < 10_000) tenantKeys.set(tenant, key)
  }
  return key
}

export class SeriesIndex {
  readonly shared: SeriesIndexShared
  readonly maxSeries: number
  /** Set by `findOrInsert`: whether the last call created the series. */
  created = false
  /** Set when `findOrInsert` refused a new series (returned 0): why, naming the limit. */
  refusal = ''
  private readonly header: Int32Array
  private readonly table: Int32Array
  private readonly mask: number
  /** Low bits of a published slot that hold the id. */
  private readonly idMask: number
  /** The bits above them, which hold the top of hash lane 2. */
  private readonly tagMask: number
  private readonly offsets: Uint32Array
  private readonly lengths: Uint32Array
  /** The arena, for comparisons in place (`labelsAt`). Read only: an entry never changes once published. */
  readonly arena: Uint8Array
  readonly arenaView: DataView
  /** Set by `labelsAt`: where the series' label bytes end in `arena`. */
  labelsEnd = 0
  // This thread's own mirror of the table for the series it has resolved: plain memory, no Atomics
  // (an atomic load is a call, not an inlined move, in V8 here), sized to what this thread has seen
  // rather than to max-series. A series' key is immutable once published, and this thread saw it
  // published (through the shared table) before it entered the mirror.
  private local = new Int32Array(2 * 4096)
  private localMask = 4095
  private localCount = 0

  static create (options: SeriesIndexOptions = {}): SeriesIndex {
    const maxSeries = options.maxSeries ?? 1_048_576
    if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > 0x3fffffff) throw new IngestError('config_invalid', `max-series must be an integer from 1 to ${0x3fffffff}, got ${maxSeries}`)
    let slots = 16
    while (slots < 2 * maxSeries) slots *= 2 // load factor at most 1/2: short probe chains
    const arenaBytes = options.arenaBytes ?? defaultArenaBytes(maxSeries)
    if (!Number.isInteger(arenaBytes) || arenaBytes < 64 || arenaBytes > MAX_ARENA_BYTES) throw new IngestError('config_invalid', `series-arena-bytes must be an integer from 64 to ${MAX_ARENA_BYTES}, got ${arenaBytes}`)
    return new SeriesIndex({
      header: new SharedArrayBuffer(HEADER_WORDS * 4),
      table: new SharedArrayBuffer(slots * 4),
      offsets: new SharedArrayBuffer((maxSeries + 2) * 4),
      lengths: new SharedArrayBuffer((maxSeries + 2) * 4),
      arena: new SharedArrayBuffer(arenaBytes)
    })
  }

  /** Another thread's view of the same index (workers call this with the buffers they were given). */
  static attach (shared: SeriesIndexShared): SeriesIndex {
    return new SeriesIndex(shared)
  }

  private constructor (shared: SeriesIndexShared) {
    this.shared = shared
    this.header = new Int32Array(shared.header)
    this.table = new Int32Array(shared.table)
    this.mask = this.table.length - 1
    this.offsets = new Uint32Array(shared.offsets)
    this.lengths = new Uint32Array(shared.lengths)
    this.maxSeries = this.offsets.length - 2
    const idBits = 32 - Math.clz32(this.maxSeries) // max-series is at most 0x3fffffff: at least one tag bit is left
    this.idMask = (2 ** idBits) - 1
    this.tagMask = 0x7fffffff & ~this.idMask
    this.arena = new Uint8Array(shared.arena)
    this.arenaView = new DataView(shared.arena)
  }

  /** Series stored. */
  get size (): number { return Atomics.load(this.header, COUNT) }
  /** Highest id handed out. */
  get lastId (): number { return Atomics.load(this.header, LAST_ID) }
  /** Arena bytes in use. */
  get arenaBytesUsed (): number { return Atomics.load(this.header, ARENA_TOP) }
  /** Arena bytes in all. */
  get arenaBytes (): number { return this.arena.length }

  /**
   * The id of the series whose labels are bytes [start, end) of `d` (canonical encoding), for the
   * tenant `tk`, or 0 when the process has not seen it. The hash must be in hashOut already
   * (`hashLabels(d, start, end, tk.seed)`). Allocates nothing.
   */
  find (d: DataView, start: number, end: number, tk: TenantKey): number {
    const mix = hashOut[0]! ^ Math.imul(hashOut[1]!, 0x9e3779b1)
    const keyLength = tk.prefix.length + (end - start)
    let id = this.findLocal(mix, d, start, end, tk, keyLength)
    if (id === 0) {
      id = this.probeShared(d, start, end, tk, false)
      if (id !== 0) this.remember(mix, id)
    }
    return id
  }

  /**
   * True when series `id` (one this thread has seen published) has as its key the labels at bytes
   * [start, end) of `d` (canonical encoding) for the tenant `tk`: the check of a guessed id
   * (series-order.ts), so no hash is needed. Compares the stored key length first, then the bytes.
   */
  keyMatches (id: number, d: DataView, start: number, end: number, tk: TenantKey): boolean {
    if (id <= 0 || id > this.maxSeries) return false
    return this.keyEquals(this.offsets[id]!, d, start, end, tk, tk.prefix.length + (end - start))
  }

  /**
   * Where the canonical label bytes of series `id` (one this thread has seen published) start in
   * `arena` when it is a series of the tenant `tk`, or -1 when it is not (or there is no such id);
   * `labelsEnd` is set to their end. For comparing a key with labels that are not contiguous bytes
   * (Remote Write 2.0 symbol references) without building it.
   */
  labelsAt (id: number, tk: TenantKey): number {
    if (id <= 0 || id > this.maxSeries) return -1
    const entry = this.offsets[id]!
    const length = this.lengths[id]!
    const p = tk.prefix.length
    if (length < p || length === 0) return -1
    if (p > 0 ? !bytesEqual(this.arenaView, entry + 4, tk.prefixView, 0, p) : this.arena[entry + 4] === 0x7a) return -1
    this.labelsEnd = entry + 4 + length
    return entry + 4 + p
  }

  private findLocal (mix: number, d: DataView, start: number, end: number, tk: TenantKey, keyLength: number): number {
    const local = this.local
    const mask = this.localMask
    let slot = mix & mask
    for (;;) {
      const at = slot << 1
      const id = local[at + 1]!
      if (id === 0) return 0
      if (local[at] === mix && this.keyEquals(this.offsets[id]!, d, start, end, tk, keyLength)) return id
      slot = (slot + 1) & mask
    }
  }

  private remember (mix: number, id: number): void {
    if (2 * (this.localCount + 1) > this.localMask + 1) {
      // Keep the mirror at most half full: double it and put every entry back (slot = check & mask).
      const old = this.local
      this.local = new Int32Array(old.length * 2)
      this.localMask = (this.local.length >>> 1) - 1
      for (let at = 0; at < old.length; at += 2) if (old[at + 1] !== 0) this.place(old[at]!, old[at + 1]!)
    }
    this.place(mix, id)
    this.localCount++
  }

  private place (mix: number, id: number): void {
    let slot = mix & this.localMask
    while (this.local[(slot << 1) + 1] !== 0) slot = (slot + 1) & this.localMask
    this.local[slot << 1] = mix
    this.local[(slot << 1) + 1] = id
  }

  /**
   * Like `find`, but stores the series when it is new and gives it the next id; `created` tells
   * which. Two threads inserting the same series at once get the same id, one of them `created`.
   * Returns 0 when the series is new and the index is full (max-series series, or no room in the
   * arena for its key); `refusal` says which. Nothing is thrown: a full index refuses new series one
   * by one while known ones go on.
   */
  findOrInsert (d: DataView, start: number, end: number, tk: TenantKey): number {
    const mix = hashOut[0]! ^ Math.imul(hashOut[1]!, 0x9e3779b1)
    this.created = false
    let id = this.findLocal(mix, d, start, end, tk, tk.prefix.length + (end - start))
    if (id === 0) {
      id = this.probeShared(d, start, end, tk, true)
      if (id !== 0) this.remember(mix, id)
    }
    return id
  }

  /**
   * The shared table: the id of the key, or 0 when it is not there (`insert` false), or the id it gets
   * when this thread stores it (`insert` true; `created` is set), or 0 when it cannot be stored.
   */
  private probeShared (d: DataView, start: number, end: number, tk: TenantKey, insert: boolean): number {
    const h1 = hashOut[0]!
    const h2 = hashOut[1]!
    const table = this.table
    const keyLength = tk.prefix.length + (end - start)
    const tag = h2 & this.tagMask
    let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (let probes = 0; probes <= this.mask; probes++) {
      let state = Atomics.load(table, slot)
      if (state === 0) {
        if (!insert) return 0
        state = Atomics.compareExchange(table, slot, 0, WRITING)
        if (state === 0) return this.store(slot, tag, d, start, end, tk, keyLength, 0)
      }
      if (state === WRITING) state = this.waitForPublish(slot)
      if (state === 0) continue // the claimer gave the slot back (index full): look at it again
      const id = state & this.idMask
      if ((state & this.tagMask) === tag && this.keyEquals(this.offsets[id]!, d, start, end, tk, keyLength)) return id
      slot = (slot + 1) & this.mask
    }
    if (insert) this.refusal = this.countFull()
    return 0
  }

  private countFull (): string {
    return `the series index is full: ${this.size} series stored, max-series is ${this.maxSeries}`
  }

  private arenaFull (keyLength: number): string {
    return `the series index has no room for the key: ${Math.min(this.arenaBytesUsed, this.arena.length)} of ${this.arena.length} arena bytes (series-arena-bytes) in use, this key needs ${arenaEntryBytes(keyLength)}`
  }

  /**
   * Stores a series under a given id (loading the series a store already knows at start-up, so that
   * ids survive a restart). Later new series get ids above every id loaded. Returns false when the
   * labels were already stored (under whichever id they have).
   */
  insertWithId (labelBytes: Uint8Array, id: number, tenant = ''): boolean {
    if (!Number.isInteger(id) || id < 1 || id > this.maxSeries) throw new IngestError('series_limit', `series id ${id} does not fit an index of max-series ${this.maxSeries}`)
    const tk = tenantKey(tenant)
    const d = new DataView(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength)
    hashLabels(d, 0, labelBytes.length, tk.seed)
    const h1 = hashOut[0]!
    const h2 = hashOut[1]!
    const keyLength = tk.prefix.length + labelBytes.length
    const tag = h2 & this.tagMask
    let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (let probes = 0; probes <= this.mask; probes++) {
      let state = Atomics.compareExchange(this.table, slot, 0, WRITING)
      if (state === 0) {
        if (this.store(slot, tag, d, 0, labelBytes.length, tk, keyLength, id) === 0) throw new IngestError('series_limit', this.refusal)
        // Later ids start above this one.
        let last = Atomics.load(this.header, LAST_ID)
        while (last < id) {
          const seen = Atomics.compareExchange(this.header, LAST_ID, last, id)
          if (seen === last) break
          last = seen
        }
        return true
      }
      if (state === WRITING) state = this.waitForPublish(slot)
      if (state > 0 && (state & this.tagMask) === tag && this.keyEquals(this.offsets[state & this.idMask]!, d, 0, labelBytes.length, tk, keyLength)) return false
      slot = (slot + 1) & this.mask
    }
    throw new IngestError('series_limit', this.countFull())
  }

  /** The canonical label bytes of a series (a view of the shared arena, valid for the life of the index). */
  labelBytes (id: number): Uint8Array | undefined {
    const length = id > 0 && id <= this.maxSeries ? this.lengths[id]! : 0
    if (length === 0) return undefined
    const start = this.offsets[id]! + 4
    return this.arena.subarray(start + this.prefixLength(start), start + length)
  }

  /** The labels of a series as strings (not for hot paths). */
  labelsOf (id: number): Labels | undefined {
    const bytes = this.labelBytes(id)
    return bytes === undefined ? undefined : decodeLabels(bytes)
  }

  /** The tenant of a series ('' for none). */
  tenantOf (id: number): string | undefined {
    const length = id > 0 && id <= this.maxSeries ? this.lengths[id]! : 0
    if (length === 0) return undefined
    const start = this.offsets[id]! + 4
    if (this.prefixLength(start) === 0) return ''
    const i = skipVarint(this.arena, start + 1)
    return decoder.decode(this.arena.subarray(i, i + readVarint(this.arena, start + 1)))
  }

  private prefixLength (start: number): number {
    if (this.arena[start] !== 0x7a) return 0
    return skipVarint(this.arena, start + 1) + readVarint(this.arena, start + 1) - start
  }

  private keyEquals (entry: number, d: DataView, start: number, end: number, tk: TenantKey, keyLength: number): boolean {
    if (this.arenaView.getUint32(entry, true) !== keyLength) return false
    const at = entry + 4
    const p = tk.prefix.length
    if (p > 0 && !bytesEqual(this.arenaView, at, tk.prefixView, 0, p)) return false
    return bytesEqual(this.arenaView, at + p, d, start, end - start)
  }

  private waitForPublish (slot: number): number {
    let state = Atomics.load(this.table, slot)
    for (let spins = 0; state === WRITING; spins++) {
      // The writer only copies a few hundred bytes; spin briefly, then sleep in short waits.
      if (spins > 100) {
        Atomics.add(this.header, WAITERS, 1)
        Atomics.wait(this.table, slot, WRITING, 1)
        Atomics.sub(this.header, WAITERS, 1)
      }
      state = Atomics.load(this.table, slot)
    }
    return state
  }

  /**
   * Fills a claimed slot and publishes it. `id` 0 takes the next free id. Returns the id, or 0 when
   * the arena has no room for the key or every id is taken (the slot is given back, `refusal` says why).
   */
  private store (slot: number, tag: number, d: DataView, start: number, end: number, tk: TenantKey, keyLength: number, id: number): number {
    const table = this.table
    const header = this.header
    const entryBytes = arenaEntryBytes(keyLength)
    // One atomic add in the common case. A key that does not fit hands its bytes back when no other
    // thread took bytes after it (nearly always), so a shorter key can still fit.
    const entry = Atomics.add(header, ARENA_TOP, entryBytes)
    if (entry + entryBytes > this.arena.length) {
      Atomics.compareExchange(header, ARENA_TOP, entry + entryBytes, entry)
      this.giveBack(slot)
      this.refusal = this.arenaFull(keyLength)
      return 0
    }
    if (id === 0) {
      id = Atomics.add(header, LAST_ID, 1) + 1
      if (id > this.maxSeries) {
        // Handed back, so that LAST_ID settles at max-series. The arena bytes taken above stay taken:
        // the index is full for good.
        Atomics.sub(header, LAST_ID, 1)
        this.giveBack(slot)
        this.refusal = this.countFull()
        return 0
      }
    }
    const arena = this.arena
    const p = tk.prefix.length
    this.arenaView.setUint32(entry, keyLength, true)
    if (p > 0) arena.set(tk.prefix, entry + 4)
    arena.set(new Uint8Array(d.buffer, d.byteOffset + start, end - start), entry + 4 + p)
    this.offsets[id] = entry
    this.lengths[id] = keyLength
    Atomics.add(this.header, COUNT, 1)
    Atomics.store(table, slot, tag | id) // publish: everything above is visible to a thread that loads this slot
    if (Atomics.load(this.header, WAITERS) > 0) Atomics.notify(table, slot) // a call into the runtime: only when someone sleeps
    this.created = true
    return id
  }

  private giveBack (slot: number): void {
    Atomics.store(this.table, slot, 0)
    Atomics.notify(this.table, slot)
  }
}
