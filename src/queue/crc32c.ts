/**
 * CRC-32C (Castagnoli): the checksum of every forward-queue record (src/queue/record.ts), and of
 * remote read's streamed frames. Pure, no I/O.
 *
 *   polynomial 0x1EDC6F41, reflected 0x82F63B78; init 0xFFFFFFFF, final XOR 0xFFFFFFFF
 *   check value: crc32c("123456789") = 0xE3069283; more vectors in RFC 3720 appendix B.4
 *
 * Slicing-by-8 (Intel's "A Systematic Approach to Building High Performance Software-based CRC
 * Generators", 2005): eight 256-entry tables, where table k gives the CRC contribution of a byte
 * followed by k zero bytes, so one step folds 8 input bytes with 8 independent lookups instead of 8
 * dependent ones. Measured in bench/crc32c.ts.
 *
 * Inputs of WASM_MIN bytes or more (record payloads: a 10,000-series body is 223 KiB) go through the
 * same algorithm in WebAssembly, slicing-by-16: four 32-bit loads and sixteen table lookups per step,
 * with no typed-array bounds checks, about twice the JavaScript loop's speed (bench/crc32c.ts). The
 * module is assembled from the WAT text below (src/decode/wasm/wat-assembler.ts: no toolchain, no
 * committed binary) the first time a thread needs it. Its memory is fixed: the 16 tables, then a
 * window the input is copied into, CHUNK bytes at a time (a memory copy costs a few percent of the CRC).
 * Where WebAssembly cannot be compiled, the JavaScript loop does everything.
 */
import { assembleWat } from '../decode/wasm/wat-assembler.js'

const POLY = 0x82f63b78
/** Below this many bytes the DataView costs more than it saves. */
const SHORT = 64

/**
 * Sixteen tables back to back in one array (table k at k * 256): one base pointer in the hot loop. The
 * JavaScript loop uses the first eight, the WebAssembly module all sixteen.
 */
const T = new Int32Array(16 * 256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY : c >>> 1
  T[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!
  for (let k = 1; k < 16; k++) {
    c = T[c & 0xff]! ^ (c >>> 8)
    T[k * 256 + n] = c
  }
}

/** Inputs at least this long go through the WebAssembly module (below it, the copy and the call cost more than they save). */
export const WASM_MIN = 1024
const PAGE = 65_536
/** Where the input window starts in the module's memory: after the 16 KiB of tables. */
const WINDOW_AT = 16 * 1024
/** The module's memory, fixed: the tables and the window. */
const PAGES = 5
/** Bytes of input per call (304 KiB): a 10,000-series body fits in one. */
const CHUNK = PAGES * PAGE - WINDOW_AT

/** The lookups of the four bytes of the 32-bit local `word`, lowest byte in table `high`, highest in `high - 3`. */
function lookups (word: string, high: number): string {
  let s = ''
  for (let b = 0; b < 4; b++) {
    s += `local.get ${word}\n`
    if (b > 0) s += `i32.const ${8 * b}\ni32.shr_u\n`
    if (b < 3) s += 'i32.const 255\ni32.and\n'
    // Table t, entry n is at byte (t * 256 + n) * 4.
    s += `i32.const 2\ni32.shl\ni32.load offset=${(high - b) * 1024}\ni32.xor\n`
  }
  return s
}

/**
 * crc(p, end, crc) -> the CRC register after the bytes [p, end) of the memory, from the register `crc`
 * (not inverted: the caller inverts before and after). 16 bytes a step: word 0 (XORed with the register)
 * goes through tables 15..12, word 1 through 11..8, word 2 through 7..4, word 3 through 3..0; then the
 * bytes left one at a time through table 0 (Sarwate).
 */
export const CRC32C_WAT = `
(module
  (memory (export "memory") ${PAGES})
  (func $crc (export "crc") (param $p i32) (param $end i32) (param $crc i32) (result i32)
    (local $stop i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    local.get $end
    i32.const 16
    i32.sub
    local.set $stop
    block $tail
    loop $step
      local.get $p
      local.get $stop
      i32.gt_s
      br_if $tail
      local.get $p
      i32.load
      local.get $crc
      i32.xor
      local.set $w0
      local.get $p
      i32.load offset=4
      local.set $w1
      local.get $p
      i32.load offset=8
      local.set $w2
      local.get $p
      i32.load offset=12
      local.set $w3
      i32.const 0
${lookups('$w0', 15)}${lookups('$w1', 11)}${lookups('$w2', 7)}${lookups('$w3', 3)}      local.set $crc
      local.get $p
      i32.const 16
      i32.add
      local.set $p
      br $step
    end
    end
    block $done
    loop $byte
      local.get $p
      local.get $end
      i32.ge_u
      br_if $done
      local.get $crc
      local.get $p
      i32.load8_u
      i32.xor
      i32.const 255
      i32.and
      i32.const 2
      i32.shl
      i32.load
      local.get $crc
      i32.const 8
      i32.shr_u
      i32.xor
      local.set $crc
      local.get $p
      i32.const 1
      i32.add
      local.set $p
      br $byte
    end
    end
    local.get $crc))
`

interface CrcModule { memory: WebAssembly.Memory, crc: (p: number, end: number, crc: number) => number }

/** This thread's instance (null: WebAssembly unavailable here, the JavaScript loop is used). */
let instance: { exports: CrcModule, heap: Uint8Array } | null | undefined

function wasmInstance (): { exports: CrcModule, heap: Uint8Array } | null {
  if (instance !== undefined) return instance
  try {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(assembleWat(CRC32C_WAT))).exports as unknown as CrcModule
    const heap = new Uint8Array(exports.memory.buffer)
    new Int32Array(exports.memory.buffer, 0, T.length).set(T)
    instance = { exports, heap }
  } catch (err) {
    if (!(err instanceof WebAssembly.CompileError)) throw err
    instance = null
  }
  return instance
}

/**
 * CRC-32C of `bytes[start, end)`. `seed` is the CRC of the bytes before (0 for none), so that
 * `crc32c(b, 0, b.length, crc32c(a)) === crc32c(a ++ b)`: a record's CRC can run over its parts.
 */
export function crc32c (bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`crc32c: range [${start}, ${end}) is outside the ${bytes.length} bytes`)
  if (end - start >= WASM_MIN) {
    const wasm = wasmInstance()
    if (wasm !== null) {
      let crc = ~seed
      for (let i = start; i < end; i += CHUNK) {
        const n = Math.min(CHUNK, end - i)
        wasm.heap.set(bytes.subarray(i, i + n), WINDOW_AT)
        crc = wasm.exports.crc(WINDOW_AT, WINDOW_AT + n, crc)
      }
      return ~crc >>> 0
    }
  }
  return crc32cJs(bytes, start, end, seed)
}

/** The JavaScript loop (slicing-by-8) for any length: what `crc32c` uses below WASM_MIN bytes or without WebAssembly. */
export function crc32cJs (bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`crc32c: range [${start}, ${end}) is outside the ${bytes.length} bytes`)
  let crc = ~seed
  let i = start
  // 8 bytes a step through a DataView: two 32-bit little-endian loads are about twice as fast as eight
  // byte loads (bench/crc32c.ts), and unlike a Uint32Array view they need no 4-byte alignment, which a
  // payload inside a read buffer does not have. Short inputs (record headers) skip the view.
  if (end - start >= SHORT) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const stop = end - 8
    while (i <= stop) {
      const lo = crc ^ view.getInt32(i, true)
      const hi = view.getInt32(i + 4, true)
      crc = T[7 * 256 + (lo & 0xff)]! ^ T[6 * 256 + ((lo >>> 8) & 0xff)]! ^
        T[5 * 256 + ((lo >>> 16) & 0xff)]! ^ T[4 * 256 + (lo >>> 24)]! ^
        T[3 * 256 + (hi & 0xff)]! ^ T[2 * 256 + ((hi >>> 8) & 0xff)]! ^
        T[256 + ((hi >>> 16) & 0xff)]! ^ T[hi >>> 24]!
      i += 8
    }
  }
  while (i < end) crc = T[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
