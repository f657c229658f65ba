/**
 * The WAT subset assembler: small modules assembled and run (arithmetic, blocks and branches by label,
 * memory with data, loads and stores with offsets, SIMD), and clear refusals of anything outside the subset.
 */
import { describe, expect, it } from 'vitest'
import { assembleWat, WatError } from '../../../src/decode/wasm/wat-assembler.js'
import { SNAPPY_WAT } from '../../../src/decode/snappy-wasm.js'

function run (text: string): Record<string, unknown> {
  return new WebAssembly.Instance(new WebAssembly.Module(assembleWat(text))).exports
}

describe('assembleWat', () => {
  it('arithmetic, comparisons and constants of every size, with params and locals by name', () => {
    const e = run(`(module
      (func $f (export "f") (param $a i32) (param $b i32) (result i32) (local $t i32)
        local.get $a
        local.get $b
        i32.sub
        local.tee $t
        i32.const 0x7fffffff ;; large constants: multi-byte signed LEB128
        i32.and
        i32.const -200
        i32.add)
      (func (export "lt") (param $a i32) (param $b i32) (result i32)
        local.get $a local.get $b i32.lt_u))`)
    const f = e.f as (a: number, b: number) => number
    expect(f(10, 3)).toBe(7 - 200)
    expect(f(0, 1)).toBe(0x7fffffff - 200)
    expect((e.lt as (a: number, b: number) => number)(-1, 1)).toBe(0) // unsigned: 0xffffffff > 1
  })

  it('blocks, loops and branches by label: a loop summing 1..n', () => {
    const e = run(`(module
      (func (export "sum") (param $n i32) (result i32) (local $acc i32)
        block $out
        loop $again
          local.get $n
          i32.eqz
          br_if $out
          local.get $acc
          local.get $n
          i32.add
          local.set $acc
          local.get $n
          i32.const 1
          i32.sub
          local.set $n
          br $again
        end
        end
        local.get $acc))`)
    expect((e.sum as (n: number) => number)(100)).toBe(5050)
  })

  it('if/else, memory with a data segment, loads and stores with offsets, and a SIMD shuffle', () => {
    const e = run(`(module
      (memory (export "memory") 1)
      (data (i32.const 16) "\\03\\02\\01\\00abc")
      (func (export "pick") (param $x i32) (result i32)
        local.get $x
        if $nonzero
          i32.const 16
          i32.load8_u offset=4
          return
        else
          i32.const 16
          i32.load
          return
        end
        unreachable)
      (func (export "shuffle") (param $dst i32) (param $src i32) (param $mask i32)
        local.get $dst
        local.get $src
        v128.load
        local.get $mask
        v128.load
        i8x16.swizzle
        v128.store offset=1))`)
    const pick = e.pick as (x: number) => number
    expect(pick(1)).toBe(0x61)
    expect(pick(0)).toBe(0x00010203)
    const mem = new Uint8Array((e.memory as WebAssembly.Memory).buffer)
    mem.set(Array.from({ length: 16 }, (_, i) => 100 + i), 100)
    mem.set(Array.from({ length: 16 }, (_, i) => 15 - i), 200)
    ;(e.shuffle as (d: number, s: number, m: number) => void)(300, 100, 200)
    expect(Array.from(mem.subarray(301, 317))).toEqual(Array.from({ length: 16 }, (_, i) => 115 - i))
  })

  it('assembles the snappy decoder into a module this engine accepts', () => {
    expect(WebAssembly.validate(assembleWat(SNAPPY_WAT))).toBe(true)
  })

  it('refuses what it does not know, naming it', () => {
    const fn = (body: string): string => `(module (func (export "f") (param $a i32) (result i32) ${body}))`
    expect(() => assembleWat(fn('local.get $a i64.popcnt'))).toThrow(/unsupported instruction i64.popcnt/)
    expect(() => assembleWat(fn('block $x br $y end i32.const 0'))).toThrow(/br to unknown label \$y/)
    expect(() => assembleWat(fn('local.get $b'))).toThrow(/unknown local \$b/)
    expect(() => assembleWat(fn('local.get $a (i32.const 1) i32.add'))).toThrow(/folded instructions/)
    expect(() => assembleWat(fn('block $x i32.const 0'))).toThrow(/unclosed block \$x/)
    expect(() => assembleWat('(module (func)')).toThrow(WatError)
    expect(() => assembleWat('(module (table 1 funcref))')).toThrow(/unsupported module field \(table/)
  })
})
