/**
 * The few members of the WebAssembly JavaScript API this project uses (the snappy decoder and its tests):
 * tsconfig's lib "ES2023" has no "DOM", and @types/node 20 declares none of them.
 */
declare namespace WebAssembly {
  class Module { constructor (bytes: Uint8Array) }
  class Instance { constructor (module: Module); readonly exports: Record<string, unknown> }
  class Memory { readonly buffer: ArrayBuffer; grow (pages: number): number }
  class CompileError extends Error {}
  function validate (bytes: Uint8Array): boolean
}
