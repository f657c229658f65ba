import { describe, expect, it } from 'vitest'
import { SymbolDictionary } from '../../src/decode/symbol-dictionary.js'

const utf8 = new TextEncoder()

/** The symbols in one buffer, at odd offsets (as they lie in a body), with their [start, length]. */
function layout (symbols: readonly string[]): { d: DataView, at: Array<[number, number]> } {
  const parts = symbols.map(s => utf8.encode(s))
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length + 3, 1))
  const at: Array<[number, number]> = []
  let o = 1
  for (const p of parts) { bytes.set(p, o); at.push([o, p.length]); o += p.length + 3 }
  return { d: new DataView(bytes.buffer), at }
}

describe('SymbolDictionary', () => {
  it('gives equal bytes one id and different bytes different ids, wherever they lie', () => {
    const dict = new SymbolDictionary()
    const words = ['', '__name__', 'up', 'job', 'node', 'a-rather-longer-symbol-of-forty-bytes-abcd', 'up ', 'uP']
    const first = layout(words)
    const ids = first.at.map(([s, n]) => dict.idOf(first.d, s, n))
    expect(new Set(ids).size).toBe(words.length)
    expect(ids.every(id => id > 0)).toBe(true)
    const again = layout([...words].reverse())
    expect(again.at.map(([s, n]) => dict.idOf(again.d, s, n))).toEqual([...ids].reverse())
  })

  it('grows past its first table and keeps every id', () => {
    const dict = new SymbolDictionary()
    const words = Array.from({ length: 5000 }, (_, i) => `value-${i}`)
    const { d, at } = layout(words)
    const ids = at.map(([s, n]) => dict.idOf(d, s, n))
    expect(new Set(ids).size).toBe(5000)
    expect(at.map(([s, n]) => dict.idOf(d, s, n))).toEqual(ids)
  })

  it('answers 0 when full, and starts over after clear', () => {
    const dict = new SymbolDictionary(4, 1 << 20)
    const { d, at } = layout(['a', 'b', 'c', 'd', 'e'])
    const ids = at.map(([s, n]) => dict.idOf(d, s, n))
    expect(ids.slice(0, 3).every(id => id > 0)).toBe(true)
    expect(ids[3]).toBe(0)
    dict.clear()
    expect(dict.idOf(d, at[4]![0], at[4]![1])).toBe(1)
    const bytes = new SymbolDictionary(100, 4)
    expect(bytes.idOf(d, at[0]![0], 1)).toBeGreaterThan(0)
    const long = layout(['abcdef'])
    expect(bytes.idOf(long.d, long.at[0]![0], long.at[0]![1])).toBe(0)
  })

  it('confirms a guessed id only for the same bytes, and no id after clear', () => {
    const dict = new SymbolDictionary()
    const { d, at } = layout(['node', 'prom', 'nod'])
    const node = dict.idOf(d, at[0]![0], at[0]![1])
    expect(dict.is(node, d, at[0]![0], at[0]![1])).toBe(true)
    expect(dict.is(node, d, at[1]![0], at[1]![1])).toBe(false) // same length, other bytes
    expect(dict.is(node, d, at[2]![0], at[2]![1])).toBe(false) // a prefix
    expect(dict.is(0, d, at[0]![0], at[0]![1])).toBe(false)
    expect(dict.is(node + 1, d, at[0]![0], at[0]![1])).toBe(false) // not handed out
    dict.clear()
    expect(dict.is(node, d, at[0]![0], at[0]![1])).toBe(false)
  })
})

