/**
 * The snappy block decoder in WebAssembly with SIMD: the same format and the same checks as
 * src/decode/snappy.ts (whose comment describes the format), with 16-byte moves where the JavaScript loop
 * has 8-byte ones and a byte shuffle for short repeating patterns. The module is assembled from the WAT
 * text below when first needed (src/decode/wasm/wat-assembler.ts): no toolchain, no committed binary.
 *
 * Memory of one decoder (its own WebAssembly.Memory, grown by doubling, never shrunk):
 *
 *   0    .. 255          pattern masks: for a period p of 1..15, 16 bytes at p*16, byte i = i mod p
 *   256  .. 271          pattern steps: at 256+p, the largest multiple of p that is at most 16
 *   OUTPUT_AT ..         the decompressed body (`declared` bytes), then SLACK bytes of room
 *   inputAt ..           a copy of the compressed block, then SLACK bytes of room
 *
 * A literal or pattern copy may write up to 15 bytes past its end, a copy with offset 16 or more up to
 * 63 (it always moves 64): into output the next elements overwrite, or into the room after the output
 * (never into the input); 16-byte reads may run up to 15 bytes past the input's end, into the room after
 * it. Element lengths and offsets are checked exactly as the JavaScript loop checks them, so the
 * WebAssembly code never writes past the room after the declared output, and the bytes it reads past an
 * element's end only go where a later element overwrites them or a shuffle leaves them out; the
 * engine's own bounds checks are a second fence.
 *
 * On a malformed block the WebAssembly code only answers "bad"; the JavaScript decoder then decodes the
 * same copy of the input to throw the precise `snappy_malformed` error, so the two always agree, word
 * for word, and the error path (rare) costs a second decode.
 */
import { IngestError } from '../errors.js'
import { snappyDecodedLength, snappyDecompressInto, snappyHeaderBytes, SnappyDecoder, type SnappyBlockDecoder } from './snappy.js'
import { assembleWat } from './wasm/wat-assembler.js'

const PAGE = 65_536
/** Where the output starts: after the tables, 64-byte aligned. */
const OUTPUT_AT = 512
/** Room after the output and after the input for the moves that run past an element's end (at most 63 bytes). */
const SLACK = 64
/**
 * Blocks whose output and input need more memory than this are decoded by the JavaScript decoder: it
 * keeps every address below 2^31, so the module's unsigned comparisons cannot wrap.
 */
export const SNAPPY_WASM_MEMORY_MAX = 1024 * 1024 * 1024

/** The 16-byte masks and steps of the pattern copy, as a WAT data string. */
function patternTables (): string {
  const bytes = new Uint8Array(272)
  for (let p = 1; p < 16; p++) {
    for (let i = 0; i < 16; i++) bytes[p * 16 + i] = i % p
    bytes[256 + p] = 16 - (16 % p)
  }
  return [...bytes].map(b => '\\' + b.toString(16).padStart(2, '0')).join('')
}

/**
 * decode(s, sEnd, d, dEnd) -> 0 when the elements in [s, sEnd) write exactly [d, dEnd), else 1.
 * The structure follows decodeElements in snappy.ts; `;;` comments give the reasons.
 */
export const SNAPPY_WAT = `
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "${patternTables()}")
  (func $decode (export "decode") (param $s i32) (param $sEnd i32) (param $d i32) (param $dEnd i32) (result i32)
    (local $d0 i32) (local $tag i32) (local $len i32) (local $off i32) (local $from i32) (local $end i32)
    (local $step i32) (local $pattern v128)
    local.get $d
    local.set $d0
    block $bad
    block $done
    loop $element
      local.get $s
      local.get $sEnd
      i32.ge_u
      br_if $done
      local.get $s
      i32.load8_u
      local.tee $tag
      i32.const 3
      i32.and
      i32.eqz
      if $literal
        ;; $len holds the length minus 1 until the checks are done: a 4-byte length of 2^32-1 has no +1.
        local.get $tag
        i32.const 2
        i32.shr_u
        local.tee $len
        i32.const 60
        i32.lt_u
        if $short
          local.get $s
          i32.const 1
          i32.add
          local.set $s
        else
          ;; 1..4 length bytes follow the tag: one 4-byte load (the room after the input makes it safe),
          ;; masked to the bytes that belong to the length.
          local.get $len
          i32.const 59
          i32.sub
          local.set $end
          local.get $s
          local.get $end
          i32.add
          local.get $sEnd
          i32.ge_u
          br_if $bad
          local.get $s
          i32.load offset=1
          i32.const -1
          i32.const 32
          local.get $end
          i32.const 3
          i32.shl
          i32.sub
          i32.shr_u
          i32.and
          local.set $len
          local.get $s
          local.get $end
          i32.add
          i32.const 1
          i32.add
          local.set $s
        end
        ;; longer than the input left, or than the output left: bad
        local.get $len
        local.get $sEnd
        local.get $s
        i32.sub
        i32.ge_u
        br_if $bad
        local.get $len
        local.get $dEnd
        local.get $d
        i32.sub
        i32.ge_u
        br_if $bad
        local.get $len
        i32.const 1
        i32.add
        local.set $len
        ;; 16 bytes at once: most literals are 1..16 bytes, so this is the whole move.
        local.get $d
        local.get $s
        v128.load
        v128.store
        local.get $len
        i32.const 16
        i32.gt_u
        if $long
          local.get $s
          local.get $len
          i32.add
          local.set $end
          local.get $s
          local.set $from
          local.get $d
          local.set $off
          loop $chunks
            local.get $off
            i32.const 16
            i32.add
            local.tee $off
            local.get $from
            i32.const 16
            i32.add
            local.tee $from
            v128.load
            v128.store
            local.get $from
            i32.const 16
            i32.add
            local.get $end
            i32.lt_u
            br_if $chunks
          end
        end
        local.get $s
        local.get $len
        i32.add
        local.set $s
        local.get $d
        local.get $len
        i32.add
        local.set $d
        br $element
      end
      ;; Copies: the 2-byte-offset form first, the commonest.
      local.get $tag
      i32.const 3
      i32.and
      i32.const 2
      i32.eq
      if $copy2
        local.get $s
        i32.const 3
        i32.add
        local.get $sEnd
        i32.gt_u
        br_if $bad
        local.get $tag
        i32.const 2
        i32.shr_u
        i32.const 1
        i32.add
        local.set $len
        local.get $s
        i32.load16_u offset=1
        local.set $off
        local.get $s
        i32.const 3
        i32.add
        local.set $s
      else
        local.get $tag
        i32.const 3
        i32.and
        i32.const 1
        i32.eq
        if $copy1
          local.get $s
          i32.const 2
          i32.add
          local.get $sEnd
          i32.gt_u
          br_if $bad
          local.get $tag
          i32.const 2
          i32.shr_u
          i32.const 7
          i32.and
          i32.const 4
          i32.add
          local.set $len
          local.get $tag
          i32.const 5
          i32.shr_u
          i32.const 8
          i32.shl
          local.get $s
          i32.load8_u offset=1
          i32.or
          local.set $off
          local.get $s
          i32.const 2
          i32.add
          local.set $s
        else
          local.get $s
          i32.const 5
          i32.add
          local.get $sEnd
          i32.gt_u
          br_if $bad
          local.get $tag
          i32.const 2
          i32.shr_u
          i32.const 1
          i32.add
          local.set $len
          local.get $s
          i32.load offset=1
          local.set $off
          local.get $s
          i32.const 5
          i32.add
          local.set $s
        end
      end
      ;; offset 0, reaching before the output, or longer than the output left: bad
      local.get $off
      i32.eqz
      br_if $bad
      local.get $off
      local.get $d
      local.get $d0
      i32.sub
      i32.gt_u
      br_if $bad
      local.get $len
      local.get $dEnd
      local.get $d
      i32.sub
      i32.gt_u
      br_if $bad
      local.get $d
      local.get $off
      i32.sub
      local.set $from
      local.get $off
      i32.const 16
      i32.lt_u
      if $pattern
        ;; Offset 1..15: the copy repeats the last $off bytes. One shuffle builds 16 bytes of that pattern
        ;; (byte i = from[i mod off]); it is stored every $step bytes, a multiple of the period, so each
        ;; store starts at the pattern's first byte.
        local.get $from
        v128.load
        local.get $off
        i32.const 4
        i32.shl
        v128.load
        i8x16.swizzle
        local.set $pattern
        local.get $off
        i32.load8_u offset=256
        local.set $step
        local.get $d
        local.get $len
        i32.add
        local.set $end
        loop $repeat
          local.get $d
          local.get $pattern
          v128.store
          local.get $d
          local.get $step
          i32.add
          local.tee $d
          local.get $end
          i32.lt_u
          br_if $repeat
        end
        local.get $end
        local.set $d
      else
        ;; Offset 16 or more: 16-byte moves in order are right even when the copy overlaps itself, as each
        ;; 16 bytes read were written before. Copies are at most 64 bytes: always 4 moves, no branch on the
        ;; length (measured about 8% faster than 1, 2 or 4 moves chosen by length, whose branches the CPU
        ;; mispredicts); up to 63 bytes past the copy, into what the next elements overwrite or the room.
        local.get $d
        local.get $from
        v128.load
        v128.store
        local.get $d
        local.get $from
        v128.load offset=16
        v128.store offset=16
        local.get $d
        local.get $from
        v128.load offset=32
        v128.store offset=32
        local.get $d
        local.get $from
        v128.load offset=48
        v128.store offset=48
        local.get $d
        local.get $len
        i32.add
        local.set $d
      end
      br $element
    end
    end
    ;; the input is used up: good only if the output is exactly as long as declared
    local.get $d
    local.get $dEnd
    i32.ne
    return
    end
    i32.const 1))
`

interface SnappyModule {
  readonly memory: WebAssembly.Memory
  readonly decode: (s: number, sEnd: number, d: number, dEnd: number) => number
}

/** The compiled module, once per thread; `null` when this engine has no WebAssembly SIMD. */
let compiled: WebAssembly.Module | null | undefined

function snappyModule (): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(assembleWat(SNAPPY_WAT))
    } catch (err) {
      if (!(err instanceof WebAssembly.CompileError)) throw err
      compiled = null
    }
  }
  return compiled
}

/** Whether this engine runs the WebAssembly decoder (WebAssembly with SIMD: Node 16.4 and later). */
export function snappyWasmAvailable (): boolean {
  return typeof WebAssembly === 'object' && snappyModule() !== null
}

/**
 * The WebAssembly decoder with the SnappyDecoder interface: `decompress` returns a view of this
 * decoder's WebAssembly memory, valid until the next call (the next body overwrites it, and a larger
 * one may move the memory).
 */
export class SnappyWasmDecoder implements SnappyBlockDecoder {
  readonly maxOutput: number
  private readonly memoryMax: number
  private instance: SnappyModule | undefined
  private u8: Uint8Array = new Uint8Array(0)
  /** For blocks too big for the WebAssembly memory limit; made when first needed. */
  private fallback: SnappyDecoder | undefined

  /** `memoryMax` (at most SNAPPY_WASM_MEMORY_MAX) is lowered only by tests, to reach the fallback cheaply. */
  constructor (maxOutput: number, memoryMax = SNAPPY_WASM_MEMORY_MAX) {
    if (!(Number.isInteger(maxOutput) && maxOutput >= 0)) {
      throw new IngestError('config_invalid', `snappy decoder limit must be a non-negative integer number of bytes, got ${maxOutput}`)
    }
    if (!snappyWasmAvailable()) throw new IngestError('internal', 'this engine has no WebAssembly SIMD: use SnappyDecoder')
    this.maxOutput = maxOutput
    this.memoryMax = Math.min(memoryMax, SNAPPY_WASM_MEMORY_MAX)
  }

  /** Bytes the WebAssembly memory holds now (0 before the first body). */
  get capacity (): number { return this.u8.length }

  /** Decompresses one block; the result views this decoder's memory and is valid until the next call. */
  decompress (src: Uint8Array): Uint8Array {
    const declared = snappyDecodedLength(src)
    if (declared > this.maxOutput) {
      throw new IngestError('decompressed_too_large', `snappy block declares ${declared} decompressed bytes, more than the limit of ${this.maxOutput}`, { declared, limit: this.maxOutput })
    }
    const header = snappyHeaderBytes()
    const inputAt = (OUTPUT_AT + declared + SLACK + 63) & ~63 // below 2^31: declared < 2^31
    const need = inputAt + src.length + SLACK
    if (need > this.memoryMax) {
      this.fallback ??= new SnappyDecoder(this.maxOutput)
      return this.fallback.decompress(src)
    }
    const m = this.instance ?? this.instantiate()
    if (need > this.u8.length) this.grow(m, need)
    const u8 = this.u8
    u8.set(src, inputAt) // one memcpy; the slot is read once, so bytes changing in it cannot change the decode
    const outputEnd = OUTPUT_AT + declared
    if (m.decode(inputAt + header, inputAt + src.length, OUTPUT_AT, outputEnd) !== 0) {
      // Bad block: the JavaScript decoder throws the precise error from the same copy.
      snappyDecompressInto(u8.subarray(inputAt, inputAt + src.length), u8.subarray(OUTPUT_AT, outputEnd), this.maxOutput)
      throw new IngestError('internal', 'the WebAssembly snappy decoder refused a block that the JavaScript decoder accepts', { declared })
    }
    return u8.subarray(OUTPUT_AT, outputEnd)
  }

  private instantiate (): SnappyModule {
    const exports = new WebAssembly.Instance(snappyModule()!).exports as unknown as SnappyModule
    this.instance = exports
    this.u8 = new Uint8Array(exports.memory.buffer)
    return exports
  }

  /** Doubles the memory until `need` bytes fit; the old buffer (and every view of it) is detached. */
  private grow (m: SnappyModule, need: number): void {
    let bytes = Math.max(this.u8.length, PAGE)
    while (bytes < need) bytes *= 2
    m.memory.grow((bytes - this.u8.length) / PAGE)
    this.u8 = new Uint8Array(m.memory.buffer)
  }
}

/** Which snappy decoder a thread uses: `auto` is the WebAssembly one where the engine runs it, else JavaScript. */
export type SnappyImplementation = 'auto' | 'wasm' | 'js'

/** Makes a thread's snappy decoder; decided once, here, not per body. */
export function createSnappyDecoder (maxOutput: number, implementation: SnappyImplementation = 'auto'): SnappyBlockDecoder {
  if (implementation === 'js' || (implementation === 'auto' && !snappyWasmAvailable())) return new SnappyDecoder(maxOutput)
  return new SnappyWasmDecoder(maxOutput)
}
