/**
 * Filling DuckDB data-chunk vectors from typed arrays, in bulk: one native memcpy per column per
 * chunk (`copy_data_to_vector`), never one JavaScript call per value, and never a detour through a
 * JavaScript number for values whose bits matter (V8 may canonicalise a NaN's payload; a stale
 * marker must keep 0x7ff0000000000002).
 *
 * Every function writes rows 0..count-1 of one vector of the chunk being filled. Scratch arrays are
 * owned by the caller (one per writer, reused for every chunk) so nothing here allocates per chunk.
 */
import duckdb from '@duckdb/node-bindings'

export type Vector = duckdb.Vector

/** Rows in one data chunk (DuckDB's STANDARD_VECTOR_SIZE, 2048). */
export const CHUNK_ROWS: number = duckdb.vector_size()

type Column = Uint8Array | Int32Array | Uint32Array | Float64Array

/** Scratch space for one chunk: 4 words a row covers a timestamp (2 words) or a list entry (4 words). */
export class ChunkScratch {
  readonly words = new Uint32Array(4 * CHUNK_ROWS)
  readonly validity = new Uint32Array(CHUNK_ROWS / 32)
  /** Grown on demand for list children (histogram buckets); never shrinks. */
  doubles = new Float64Array(4 * CHUNK_ROWS)

  doublesFor (n: number): Float64Array {
    if (this.doubles.length < n) {
      let size = this.doubles.length
      while (size < n) size *= 2
      this.doubles = new Float64Array(size)
    }
    return this.doubles
  }
}

/** Copies elements [start, start + count) of a column into the vector's rows 0.., as bytes. */
export function copyColumn (vector: Vector, column: Column, start: number, count: number): void {
  if (count === 0) return
  const bpe = column.BYTES_PER_ELEMENT
  duckdb.copy_data_to_vector(vector, 0, column.buffer as ArrayBuffer, column.byteOffset + start * bpe, count * bpe)
}

/**
 * Writes millisecond timestamps [start, start + count) as TIMESTAMP (int64 microseconds).
 * The int64 is built from two uint32 words: plain number arithmetic, no BigInt per row.
 */
export function copyTimestamps (vector: Vector, ms: Float64Array, start: number, count: number, scratch: ChunkScratch): void {
  if (count === 0) return
  const w = scratch.words
  for (let i = 0; i < count; i++) {
    const us = ms[start + i]! * 1000 // exact: |us| < 2^53 for any date before the year 2255
    const hi = Math.floor(us / 4294967296)
    w[2 * i] = us - hi * 4294967296
    w[2 * i + 1] = hi // a Uint32Array store wraps a negative high word to its two's complement
  }
  duckdb.copy_data_to_vector(vector, 0, w.buffer, 0, count * 8)
}

/** Writes one constant timestamp (ms) into rows 0..count-1. */
export function fillTimestamp (vector: Vector, ms: number, count: number, scratch: ChunkScratch): void {
  if (count === 0) return
  const us = ms * 1000
  const hi = Math.floor(us / 4294967296)
  const lo = us - hi * 4294967296
  const w = scratch.words
  for (let i = 0; i < count; i++) { w[2 * i] = lo; w[2 * i + 1] = hi }
  duckdb.copy_data_to_vector(vector, 0, w.buffer, 0, count * 8)
}

/** Like copyTimestamps, but a 0 ms timestamp (field not sent) becomes NULL. */
export function copyTimestampsZeroAsNull (vector: Vector, ms: Float64Array, start: number, count: number, scratch: ChunkScratch): void {
  if (count === 0) return
  // Validity is a bitmap of uint64 words, bit i = row i; two little-endian uint32 words per uint64.
  const words = 2 * Math.ceil(count / 64)
  const v = scratch.validity
  v.fill(0, 0, words)
  let valid = 0
  for (let i = 0; i < count; i++) if (ms[start + i] !== 0) { v[i >>> 5]! |= 1 << (i & 31); valid++ }
  // Senders seldom set the field (Remote Write 1.0 has none): then every row is NULL and the values,
  // which DuckDB never reads under a NULL, are not written.
  if (valid > 0) copyTimestamps(vector, ms, start, count, scratch)
  duckdb.vector_ensure_validity_writable(vector)
  duckdb.copy_data_to_vector_validity(vector, 0, v.buffer, 0, words * 4)
}

/**
 * Writes list entries (offset, length: two uint64) for rows 0..count-1 of a LIST vector.
 * Row r covers child elements starts[first + r * stride] - base .. starts[first + r * stride + 1] - base.
 */
export function writeListEntries (vector: Vector, starts: Uint32Array, first: number, stride: number, count: number, base: number, scratch: ChunkScratch): void {
  if (count === 0) return
  const w = scratch.words
  for (let r = 0, at = first; r < count; r++, at += stride) {
    const a = starts[at]!
    w[4 * r] = a - base
    w[4 * r + 1] = 0
    w[4 * r + 2] = starts[at + 1]! - a
    w[4 * r + 3] = 0
  }
  duckdb.copy_data_to_vector(vector, 0, w.buffer, 0, count * 16)
}

/** Makes room for `size` child elements and returns the child vector (valid until the next reserve). */
export function reserveListChild (vector: Vector, size: number): Vector {
  duckdb.list_vector_reserve(vector, Math.max(size, 1))
  return duckdb.list_vector_get_child(vector)
}

export function setListSize (vector: Vector, size: number): void {
  duckdb.list_vector_set_size(vector, size)
}

export function structChild (vector: Vector, index: number): Vector {
  return duckdb.struct_vector_get_child(vector, index)
}

const NAME_LABEL = new TextEncoder().encode('__name__')
const EMPTY: Uint8Array = new Uint8Array(0)

/** Whether bytes [at, at + length) of b spell `__name__`. */
function isNameLabel (b: Uint8Array, at: number, length: number): boolean {
  if (length !== 8) return false
  for (let i = 0; i < 8; i++) if (b[at + i] !== NAME_LABEL[i]) return false
  return true
}

function varint (b: Uint8Array, pos: number, out: Int32Array): number {
  let v = 0
  let shift = 0
  for (;;) {
    const byte = b[pos++]!
    v += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) { out[0] = v; return pos }
    shift += 7
  }
}

const varintOut = new Int32Array(1)

/**
 * Fills a MAP(VARCHAR, VARCHAR) vector from canonical label encodings (src/series/labels.ts), no
 * strings made in JavaScript: each name and value goes to DuckDB as a byte range.
 *
 *   per label:  0x0a len  { 0x0a len name   0x12 len value (absent when empty) }
 *
 * `labelsOf(r)` gives row r's encoding. When `names` is given, row r's `__name__` value is also
 * assigned to names[r] (the series' metric column). Returns the number of labels written.
 */
export function writeLabelMaps (vector: Vector, count: number, labelsOf: (row: number) => Uint8Array, scratch: ChunkScratch, names?: Vector): number {
  let upper = 0
  for (let r = 0; r < count; r++) upper += Math.ceil(labelsOf(r).length / 4) // a label takes at least 4 bytes
  const child = reserveListChild(vector, upper)
  const keys = structChild(child, 0)
  const values = structChild(child, 1)
  const w = scratch.words
  let n = 0
  for (let r = 0; r < count; r++) {
    const b = labelsOf(r)
    const first = n
    let metric = EMPTY
    let pos = 0
    while (pos < b.length) {
      pos = varint(b, pos + 1, varintOut) // 0x0a len(Label)
      const end = pos + varintOut[0]!
      let name = EMPTY
      let value = EMPTY
      while (pos < end) {
        const tag = b[pos]!
        pos = varint(b, pos + 1, varintOut)
        const field = b.subarray(pos, pos + varintOut[0]!)
        if (tag === 0x0a) name = field
        else if (tag === 0x12) value = field
        pos += varintOut[0]!
      }
      duckdb.vector_assign_string_element_len(keys, n, name)
      duckdb.vector_assign_string_element_len(values, n, value)
      if (names !== undefined && isNameLabel(name, 0, name.length)) metric = value
      n++
    }
    if (names !== undefined) duckdb.vector_assign_string_element_len(names, r, metric)
    w[4 * r] = first
    w[4 * r + 1] = 0
    w[4 * r + 2] = n - first
    w[4 * r + 3] = 0
  }
  setListSize(vector, n)
  if (count > 0) duckdb.copy_data_to_vector(vector, 0, w.buffer, 0, count * 16)
  return n
}

/** Assigns one byte string per row (VARCHAR or BLOB vector). */
export function writeBytes (vector: Vector, count: number, bytesOf: (row: number) => Uint8Array): void {
  for (let r = 0; r < count; r++) duckdb.vector_assign_string_element_len(vector, r, bytesOf(r))
}

/** Assigns the same string to rows 0..count-1. */
export function fillString (vector: Vector, value: Uint8Array, count: number): void {
  for (let r = 0; r < count; r++) duckdb.vector_assign_string_element_len(vector, r, value)
}
