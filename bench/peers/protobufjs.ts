/**
 * Benchmark peer: protobufjs static code decoding a Remote Write 1.0 body.
 *
 * The static module is generated from test/fixtures/proto/remote-write-1.proto by protobufjs-cli
 * (`npm run bench:gen`: `pbjs -t static-module -w es6`) into bench/generated/, which is not committed;
 * `npm run bench:decode` generates it first. It is loaded at run time, so that building the project
 * does not depend on it. Options are pbjs' defaults (int64 fields become Long objects, as users get them).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The generated module, as far as the benchmark uses it. */
interface StaticModule {
  prometheus: { WriteRequest: { decode (body: Uint8Array): DecodedWriteRequest } }
}

/** The decoded request, as far as a check needs it. */
export interface DecodedWriteRequest {
  timeseries: Array<{ labels: unknown[], samples: Array<{ timestamp: number | { toString (): string } }> }>
}

/** bench/generated/remote-write-1.js, seen from bench/peers/ (sources) or dist/bench/peers/ (built). */
export function staticModulePath (): string | undefined {
  for (const up of ['../generated/', '../../../bench/generated/']) {
    const path = fileURLToPath(new URL(up + 'remote-write-1.js', import.meta.url))
    if (existsSync(path)) return path
  }
  return undefined
}

const path = staticModulePath()
if (path === undefined) throw new Error('bench/generated/remote-write-1.js is missing: run `npm run bench:gen` (protobufjs-cli) first')
const { prometheus } = await import(pathToFileURL(path).href) as StaticModule

/** Decodes a whole uncompressed RW 1.0 body into protobufjs message objects. */
export function decodeWithProtobufjs (body: Uint8Array): DecodedWriteRequest {
  return prometheus.WriteRequest.decode(body)
}
