/**
 * The file that persists one destination's cursor: `<dir>/cursors/<name>`, 64 bytes, two slots of
 * 32 bytes written in turn (slot = sequence number mod 2), so that a write torn by a crash spoils at
 * most the slot being written and the other still holds the previous position. Pure, no I/O.
 *
 *   offset  size  field (each slot)
 *        0     4  magic     u32 LE 0x43514950 ("PIQC")
 *        4     4  version   u32 LE 1
 *        8     8  sequence  u64 LE, +1 per write
 *       16     8  position  u64 LE: everything before it is delivered or dropped
 *       24     4  reserved  0
 *       28     4  crc       u32 LE: CRC-32C of bytes 0..28 of the slot
 *
 * Reading takes the intact slot with the higher sequence. No intact slot: the file is damaged, and
 * the cursor falls back to the oldest record (delivery is at least once, never less).
 */
import { crc32c } from './crc32c.js'

export const CURSOR_FILE_BYTES = 64
export const SLOT_BYTES = 32
const MAGIC = 0x43514950
const VERSION = 1
const TWO_32 = 2 ** 32

export interface CursorState {
  readonly sequence: number
  readonly position: number
}

/** The slot for `state`; it goes at offset `slotOffset(state.sequence)`. */
export function encodeSlot (state: CursorState, out: Uint8Array = new Uint8Array(SLOT_BYTES)): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset, SLOT_BYTES)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, VERSION, true)
  view.setUint32(8, state.sequence % TWO_32, true)
  view.setUint32(12, Math.floor(state.sequence / TWO_32), true)
  view.setUint32(16, state.position % TWO_32, true)
  view.setUint32(20, Math.floor(state.position / TWO_32), true)
  view.setUint32(24, 0, true)
  view.setUint32(28, crc32c(out, 0, 28), true)
  return out
}

export function slotOffset (sequence: number): number {
  return (sequence % 2) * SLOT_BYTES
}

/** The newest intact state in a cursor file's bytes, or undefined when no slot is intact. */
export function decodeCursorFile (bytes: Uint8Array): CursorState | undefined {
  let best: CursorState | undefined
  for (let at = 0; at + SLOT_BYTES <= bytes.length && at < CURSOR_FILE_BYTES; at += SLOT_BYTES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, SLOT_BYTES)
    if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) continue
    if (crc32c(bytes, at, at + 28) !== view.getUint32(28, true)) continue
    const sequence = view.getUint32(8, true) + view.getUint32(12, true) * TWO_32
    const position = view.getUint32(16, true) + view.getUint32(20, true) * TWO_32
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(sequence)) continue
    if (best === undefined || sequence > best.sequence) best = { sequence, position }
  }
  return best
}

/** File name for a cursor name: any name, percent-encoded, never `.`-led (no hidden or `..` files). */
export function cursorFileName (name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E').replace(/\*/g, '%2A')
}

/** The cursor name of a file name, or undefined when it is not one of ours. */
export function cursorNameOf (fileName: string): string | undefined {
  try {
    const name = decodeURIComponent(fileName)
    return name.length > 0 && cursorFileName(name) === fileName ? name : undefined
  } catch {
    return undefined
  }
}
