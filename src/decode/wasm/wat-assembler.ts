/**
 * A small assembler for a subset of the WebAssembly text format (WAT), so that the WebAssembly snappy
 * decoder is built from readable source in the repository, when the module loads, with no toolchain and
 * no committed binary. The text it takes is ordinary WAT (wat2wasm from wabt assembles it to the same
 * module), restricted to what our code uses:
 *
 *   (module
 *     (memory (export "name") PAGES)
 *     (data (i32.const ADDRESS) "bytes, \hh escapes")
 *     (func $name (export "name") (param $p i32)* (result i32)? (local $l TYPE)*
 *       instructions, flat (one per line or several per line), no folded s-expressions))
 *
 * Instructions: block/loop/if with a `$label` and no result type, else, end, br/br_if to a `$label`,
 * return, unreachable, drop, select, local.get/set/tee by `$name`, i32.const, the i32 comparisons and
 * arithmetic below, loads and stores with `offset=N` (alignment is always the natural one), memory.copy,
 * memory.fill, and the SIMD instructions v128.load, v128.store, i8x16.swizzle. Line comments `;;`.
 *
 * Binary format: https://webassembly.github.io/spec/core/binary/ (sections 1 type, 3 function,
 * 5 memory, 7 export, 10 code, 11 data).
 */

/** Opcodes without immediates. */
const PLAIN: Readonly<Record<string, readonly number[]>> = {
  unreachable: [0x00],
  nop: [0x01],
  else: [0x05],
  end: [0x0b],
  return: [0x0f],
  drop: [0x1a],
  select: [0x1b],
  'i32.eqz': [0x45],
  'i32.eq': [0x46],
  'i32.ne': [0x47],
  'i32.lt_s': [0x48],
  'i32.lt_u': [0x49],
  'i32.gt_s': [0x4a],
  'i32.gt_u': [0x4b],
  'i32.le_s': [0x4c],
  'i32.le_u': [0x4d],
  'i32.ge_s': [0x4e],
  'i32.ge_u': [0x4f],
  'i32.add': [0x6a],
  'i32.sub': [0x6b],
  'i32.mul': [0x6c],
  'i32.and': [0x71],
  'i32.or': [0x72],
  'i32.xor': [0x73],
  'i32.shl': [0x74],
  'i32.shr_s': [0x75],
  'i32.shr_u': [0x76],
  'memory.copy': [0xfc, 0x0a, 0x00, 0x00],
  'memory.fill': [0xfc, 0x0b, 0x00],
  'i8x16.swizzle': [0xfd, 0x0e]
}

/** Loads and stores: opcode bytes and the natural alignment (log2 of the access width). */
const MEMORY: Readonly<Record<string, { readonly op: readonly number[], readonly align: number }>> = {
  'i32.load': { op: [0x28], align: 2 },
  'i64.load': { op: [0x29], align: 3 },
  'i32.load8_u': { op: [0x2d], align: 0 },
  'i32.load16_u': { op: [0x2f], align: 1 },
  'i32.store': { op: [0x36], align: 2 },
  'i64.store': { op: [0x37], align: 3 },
  'i32.store8': { op: [0x3a], align: 0 },
  'i32.store16': { op: [0x3b], align: 1 },
  'v128.load': { op: [0xfd, 0x00], align: 4 },
  'v128.store': { op: [0xfd, 0x0b], align: 4 }
}

const VALUE_TYPES: Readonly<Record<string, number>> = { i32: 0x7f, i64: 0x7e, v128: 0x7b }
const LOCAL_OPS: Readonly<Record<string, number>> = { 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }
const BLOCK_OPS: Readonly<Record<string, number>> = { block: 0x02, loop: 0x03, if: 0x04 }
const BRANCH_OPS: Readonly<Record<string, number>> = { br: 0x0c, br_if: 0x0d }

/** A parsed s-expression: a token or a parenthesized list. */
type Node = string | Node[]

export class WatError extends Error {}

/** Assembles the module text into a WebAssembly binary. Throws WatError on anything outside the subset. */
export function assembleWat (text: string): Uint8Array {
  const top = parse(text)
  if (top.length !== 1 || !Array.isArray(top[0]) || top[0][0] !== 'module') throw new WatError('expected one (module ...)')
  const types: number[][] = []
  const funcTypes: number[] = []
  const codes: number[][] = []
  const exports: number[][] = []
  const datas: number[][] = []
  let memories = 0
  const memory: number[] = []
  for (const field of top[0].slice(1)) {
    if (!Array.isArray(field)) throw new WatError(`unexpected ${field} in module`)
    const kind = field[0]
    if (kind === 'memory') {
      let pages: string | undefined
      for (const part of field.slice(1)) {
        if (Array.isArray(part) && part[0] === 'export') exports.push([...name(part[1]), 0x02, memories])
        else if (typeof part === 'string') pages = part
      }
      if (pages === undefined) throw new WatError('memory without a page count')
      memory.push(0x00, ...uleb(integer(pages)))
      memories++
    } else if (kind === 'data') {
      const at = field[1]
      if (!Array.isArray(at) || at[0] !== 'i32.const' || typeof at[1] !== 'string') throw new WatError('data needs (i32.const ADDRESS)')
      const bytes = field.slice(2).flatMap(s => stringBytes(s))
      datas.push([0x00, 0x41, ...sleb(integer(at[1])), 0x0b, ...uleb(bytes.length), ...bytes])
    } else if (kind === 'func') {
      const index = funcTypes.length
      const { type, body, exportName } = func(field)
      let t = types.findIndex(x => x.length === type.length && x.every((b, i) => b === type[i]))
      if (t < 0) t = types.push(type) - 1
      funcTypes.push(t)
      codes.push(body)
      if (exportName !== undefined) exports.push([...name(exportName), 0x00, index])
    } else {
      throw new WatError(`unsupported module field (${String(kind)} ...)`)
    }
  }
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  section(out, 1, vec(types))
  section(out, 3, vec(funcTypes.map(t => uleb(t))))
  if (memories > 0) section(out, 5, [...uleb(memories), ...memory])
  section(out, 7, vec(exports))
  section(out, 10, vec(codes.map(c => [...uleb(c.length), ...c])))
  if (datas.length > 0) section(out, 11, vec(datas))
  return Uint8Array.from(out)
}

/** One function: its type (0x60 params results), its code body (locals then instructions), its export name. */
function func (field: Node[]): { type: number[], body: number[], exportName: string | undefined } {
  const locals = new Map<string, number>()
  const params: number[] = []
  const results: number[] = []
  const localTypes: number[] = []
  let exportName: string | undefined
  let i = 1
  if (typeof field[i] === 'string' && (field[i] as string).startsWith('$')) i++ // the function's own name
  for (; i < field.length && Array.isArray(field[i]); i++) {
    const part = field[i] as Node[]
    const head = part[0]
    if (head === 'export') {
      exportName = part[1] as string
    } else if (head === 'param' || head === 'local') {
      const id = part[1] as string
      const type = valueType(part[2])
      if (locals.has(id)) throw new WatError(`${id} declared twice`)
      locals.set(id, locals.size)
      if (head === 'param') {
        if (localTypes.length > 0) throw new WatError(`param ${id} after a local`)
        params.push(type)
      } else {
        localTypes.push(type)
      }
    } else if (head === 'result') {
      results.push(valueType(part[1]))
    } else {
      throw new WatError(`unsupported function field (${String(head)} ...)`)
    }
  }
  const code: number[] = []
  // Locals: runs of one type, as (count, type) pairs.
  const runs: number[][] = []
  for (const t of localTypes) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last[1] === t) last[0]!++
    else runs.push([1, t])
  }
  code.push(...uleb(runs.length))
  for (const [count, t] of runs) code.push(...uleb(count!), t!)
  const labels: string[] = [] // innermost last
  const tokens = field.slice(i)
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]
    if (typeof token !== 'string') throw new WatError('folded instructions are not supported: write them flat')
    const next = (): string => {
      const t = tokens[++k]
      if (typeof t !== 'string') throw new WatError(`${token} needs an operand`)
      return t
    }
    if (token in PLAIN) {
      code.push(...PLAIN[token]!)
      if (token === 'end') {
        if (labels.length === 0) throw new WatError('end without a block')
        labels.pop()
      }
      if (token === 'else' && labels.length === 0) throw new WatError('else without an if')
    } else if (token in BLOCK_OPS) {
      const label = tokens[k + 1]
      if (typeof label === 'string' && label.startsWith('$')) {
        labels.push(label)
        k++
      } else {
        labels.push('')
      }
      code.push(BLOCK_OPS[token]!, 0x40) // 0x40: the block has no result
    } else if (token in BRANCH_OPS) {
      const label = next()
      const depth = labels.lastIndexOf(label)
      if (depth < 0) throw new WatError(`${token} to unknown label ${label}`)
      code.push(BRANCH_OPS[token]!, ...uleb(labels.length - 1 - depth))
    } else if (token in LOCAL_OPS) {
      const id = next()
      const index = locals.get(id)
      if (index === undefined) throw new WatError(`unknown local ${id}`)
      code.push(LOCAL_OPS[token]!, ...uleb(index))
    } else if (token === 'i32.const') {
      code.push(0x41, ...sleb(integer(next())))
    } else if (token in MEMORY) {
      const m = MEMORY[token]!
      let offset = 0
      const o = tokens[k + 1]
      if (typeof o === 'string' && o.startsWith('offset=')) {
        offset = integer(o.slice(7))
        k++
      }
      code.push(...m.op, ...uleb(m.align), ...uleb(offset))
    } else {
      throw new WatError(`unsupported instruction ${token}`)
    }
  }
  if (labels.length !== 0) throw new WatError(`unclosed block ${labels[labels.length - 1]}`)
  code.push(0x0b)
  return { type: [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results], body: code, exportName }
}

function valueType (t: Node | undefined): number {
  const v = typeof t === 'string' ? VALUE_TYPES[t] : undefined
  if (v === undefined) throw new WatError(`unsupported value type ${String(t)}`)
  return v
}

function integer (s: string): number {
  const n = Number(s.replaceAll('_', ''))
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 32) throw new WatError(`not a 32-bit integer: ${s}`)
  return n
}

/** A name for the export section: a "quoted" token, as length-prefixed UTF-8. */
function name (token: Node | undefined): number[] {
  const bytes = stringBytes(token)
  return [...uleb(bytes.length), ...bytes]
}

/** The bytes of a "quoted" string token: printable ASCII and \hh escapes. */
function stringBytes (token: Node | undefined): number[] {
  if (typeof token !== 'string' || !token.startsWith('"') || !token.endsWith('"')) throw new WatError(`expected a string, got ${String(token)}`)
  const out: number[] = []
  for (let i = 1; i < token.length - 1; i++) {
    const c = token.charCodeAt(i)
    if (c === 0x5c) { // backslash: two hex digits follow
      const hex = token.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new WatError(`unsupported escape \\${hex}`)
      out.push(Number.parseInt(hex, 16))
      i += 2
    } else {
      if (c > 0x7e) throw new WatError('strings must be ASCII')
      out.push(c)
    }
  }
  return out
}

function section (out: number[], id: number, content: number[]): void {
  out.push(id, ...uleb(content.length), ...content)
}

function vec (items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()]
}

function uleb (n: number): number[] {
  const out: number[] = []
  let v = n >>> 0
  do {
    const b = v & 0x7f
    v >>>= 7
    out.push(v === 0 ? b : b | 0x80)
  } while (v !== 0)
  return out
}

function sleb (n: number): number[] {
  const out: number[] = []
  let v = n | 0 // i32.const takes the 32-bit two's complement value: 0xffffffff is -1
  for (;;) {
    const b = v & 0x7f
    v >>= 7
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

/** Tokens and parenthesized lists; `;;` comments to the end of the line; "strings" kept whole with their quotes. */
function parse (text: string): Node[] {
  const stack: Node[][] = [[]]
  const re = /;;[^\n]*|\(|\)|"(?:[^"\\]|\\.)*"|[^\s()";]+/g
  for (const m of text.matchAll(re)) {
    const t = m[0]
    if (t.startsWith(';;')) continue
    if (t === '(') {
      const list: Node[] = []
      stack[stack.length - 1]!.push(list)
      stack.push(list)
    } else if (t === ')') {
      if (stack.length === 1) throw new WatError('unbalanced )')
      stack.pop()
    } else {
      stack[stack.length - 1]!.push(t)
    }
  }
  if (stack.length !== 1) throw new WatError('unbalanced (')
  return stack[0]!
}
