/**
 * Recovery scan of one segment file at open: walks the records from offset 0, checks each one
 * (position field, length, CRC over header and payload), and reports every intact record, every
 * damaged stretch it had to skip, and the bytes after the last intact record.
 *
 * After a record that does not check out, the scan resynchronises: first at the end the damaged
 * header declares (a flipped payload byte leaves the length intact, so exactly one record is lost),
 * otherwise byte by byte for the next offset q whose header names base + q as its position and
 * whose length and CRC check out. What lies between is a damaged stretch; everything after it is
 * kept. When no intact record follows, the stretch runs to the end of the file: the caller decides
 * what that means (a torn tail in the segment being written, damage in an older one).
 *
 * Memory is bounded: the file is read through one window (1 MiB by default), and a record larger
 * than the window has its CRC computed over the window's successive fillings.
 */
import type { FileHandle } from 'node:fs/promises'
import { crc32c } from './crc32c.js'
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, headerCrc, low32, positionLow, readHeader, type HeaderFields } from './record.js'

export const SCAN_WINDOW_BYTES = 1 << 20

/** A stretch of a segment file, as offsets in the file. */
export interface Stretch {
  readonly from: number
  readonly to: number
}

export interface ScanResult {
  /** Offset after the last intact record (0 when there is none). */
  readonly validEnd: number
  /** Stretches skipped between intact records: each held at least one damaged record. */
  readonly damaged: Stretch[]
  /** Bytes after the last intact record that hold no intact record, if any. */
  readonly tail: Stretch | undefined
}

/** A window over a file: holds up to `buf.length` bytes starting at `start`. */
class FileWindow {
  start = 0
  end = 0

  constructor (readonly buf: Uint8Array, private readonly handle: FileHandle, private readonly limit: number) {}

  /** Makes file bytes [off, off + n) available (n at most the window); returns their index in `buf`. */
  async at (off: number, n: number): Promise<number> {
    if (off >= this.start && off + n <= this.end) return off - this.start
    const want = Math.min(this.buf.length, this.limit - off)
    let got = 0
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buf, got, want - got, off + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    this.start = off
    this.end = off + got
    if (got < n) throw new Error(`segment file shrank while it was scanned: ${n} bytes wanted at offset ${off}, ${got} read`)
    return 0
  }
}

/**
 * Scans `limit` bytes of the segment whose first byte is at log position `base`, calling
 * `onRecord` for each intact record in order.
 */
export async function scanSegment (
  handle: FileHandle,
  base: number,
  limit: number,
  onRecord: (position: number, length: number, appendedAtMs: number) => void,
  window: Uint8Array = new Uint8Array(SCAN_WINDOW_BYTES)
): Promise<ScanResult> {
  const win = new FileWindow(window, handle, limit)
  const h: HeaderFields = { crc: 0, length: 0, position: 0, appendedAtMs: 0 }
  const W = window.length

  /** The payload length when an intact record starts at `off` (its fields left in `h`), else -1. */
  const checkAt = async (off: number): Promise<number> => {
    if (off + HEADER_BYTES > limit) return -1
    const i = await win.at(off, HEADER_BYTES)
    readHeader(win.buf, i, h)
    const { length, crc: stored } = h
    if (h.position !== base + off || length > MAX_PAYLOAD_BYTES || off + HEADER_BYTES + length > limit) return -1
    let crc = headerCrc(win.buf, i)
    for (let p = off + HEADER_BYTES, end = p + length; p < end;) {
      const n = Math.min(W, end - p)
      const j = await win.at(p, n)
      crc = crc32c(win.buf, j, j + n, crc)
      p += n
    }
    return crc === stored ? length : -1
  }

  /** The first offset at or after `from` where an intact record starts, or -1. */
  const resync = async (from: number): Promise<number> => {
    let q = from
    while (q + HEADER_BYTES <= limit) {
      const n = Math.min(W, limit - q)
      const i0 = await win.at(q, n)
      const last = q + n - HEADER_BYTES
      let found = -1
      // The position field is the filter: one 32-bit compare per byte offset, the CRC only on a match.
      for (let k = q; k <= last; k++) {
        if (positionLow(win.buf, i0 + k - q) === low32(base + k)) { found = k; break }
      }
      if (found < 0) { q = last + 1; continue }
      if (await checkAt(found) >= 0) return found
      q = found + 1
    }
    return -1
  }

  const damaged: Stretch[] = []
  let validEnd = 0
  let off = 0
  while (off < limit) {
    const length = await checkAt(off)
    if (length >= 0) {
      onRecord(base + off, length, h.appendedAtMs)
      off += HEADER_BYTES + length
      validEnd = off
      continue
    }
    // Where the damaged header says the record ends, when its position field is intact.
    let next = -1
    if (off + HEADER_BYTES <= limit) {
      readHeader(win.buf, await win.at(off, HEADER_BYTES), h)
      const declaredEnd = off + HEADER_BYTES + h.length
      if (h.position === base + off && h.length <= MAX_PAYLOAD_BYTES && declaredEnd < limit && await checkAt(declaredEnd) >= 0) next = declaredEnd
    }
    if (next < 0) next = await resync(off + 1)
    if (next < 0) return { validEnd, damaged, tail: { from: off, to: limit } }
    damaged.push({ from: off, to: next })
    off = next
  }
  return { validEnd, damaged, tail: undefined }
}

/**
 * The first offset in [from, limit) where a record of the file's previous life starts, or -1. A
 * recycled segment file (docs/forward-queue.md, "Recycled segments") still holds an older segment's
 * records past the log's bytes: each one intact, with the position it had there, which is below
 * `base` (positions only grow). Bytes from that offset on are stale, not a torn record or damage.
 */
export async function firstStaleRecord (
  handle: FileHandle,
  base: number,
  from: number,
  limit: number,
  window: Uint8Array = new Uint8Array(SCAN_WINDOW_BYTES)
): Promise<number> {
  const win = new FileWindow(window, handle, limit)
  const h: HeaderFields = { crc: 0, length: 0, position: 0, appendedAtMs: 0 }
  const W = window.length
  const highBase = Math.floor(base / 2 ** 32)
  let q = from
  while (q + HEADER_BYTES <= limit) {
    const n = Math.min(W, limit - q)
    const i0 = await win.at(q, n)
    const last = q + n - HEADER_BYTES
    let found = -1
    // The filter: the high word of the position field at most base's (0 for any queue under 4 GiB of history), then below base and at least the offset.
    for (let k = q; k <= last; k++) {
      const j = i0 + k - q
      const high = (win.buf[j + 12]! | (win.buf[j + 13]! << 8) | (win.buf[j + 14]! << 16) | (win.buf[j + 15]! << 24)) >>> 0
      if (high > highBase) continue
      const position = positionLow(win.buf, j) + high * 2 ** 32
      if (position < base && position >= k) { found = k; break }
    }
    if (found < 0) { q = last + 1; continue }
    if (await intactAt(win, found, limit, W, h)) return found
    q = found + 1
  }
  return -1
}

/** Whether an intact record (length and CRC; any position) starts at `off`. */
async function intactAt (win: FileWindow, off: number, limit: number, W: number, h: HeaderFields): Promise<boolean> {
  const i = await win.at(off, HEADER_BYTES)
  readHeader(win.buf, i, h)
  const { length, crc: stored } = h
  if (length > MAX_PAYLOAD_BYTES || off + HEADER_BYTES + length > limit) return false
  let crc = headerCrc(win.buf, i)
  for (let p = off + HEADER_BYTES, end = p + length; p < end;) {
    const n = Math.min(W, end - p)
    const j = await win.at(p, n)
    crc = crc32c(win.buf, j, j + n, crc)
    p += n
  }
  return crc === stored
}

/**
 * What part of a segment's tail (the bytes from `from`, after its last intact record, to `limit`)
 * is torn: undefined when none is. First the records this log started there (each header naming its
 * own position: a group's write cut short), each counted to the end its header declares. What
 * follows them is stale when a record of the file's previous life starts anywhere in it (a recycled
 * file: the bytes before that record are the rest of an older one), and torn otherwise (today's
 * rule for a file that was never recycled: unknown bytes after the last intact record).
 */
export async function tornPart (
  handle: FileHandle,
  base: number,
  from: number,
  limit: number,
  window: Uint8Array = new Uint8Array(SCAN_WINDOW_BYTES)
): Promise<Stretch | undefined> {
  const win = new FileWindow(window, handle, limit)
  const h: HeaderFields = { crc: 0, length: 0, position: 0, appendedAtMs: 0 }
  let off = from
  while (off + HEADER_BYTES <= limit) {
    readHeader(win.buf, await win.at(off, HEADER_BYTES), h)
    if (h.position !== base + off || h.length > MAX_PAYLOAD_BYTES) break
    off = Math.min(limit, off + HEADER_BYTES + h.length)
  }
  if (off < limit && await firstStaleRecord(handle, base, off, limit, window) >= 0) return off > from ? { from, to: off } : undefined
  return { from, to: limit }
}
