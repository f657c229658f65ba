/**
 * `prom-ingest inspect FILE... [--json] [--version 1.0|2.0] [--series N]`: decodes captured
 * remote-write bodies offline and prints what they hold: the format found, counts (series, samples,
 * exemplars, histograms, metadata), bytes in and out, labels per series, and the first few series in
 * the Prometheus text form with their samples. `--json` prints one JSON document for machines.
 *
 * The format is found by trying: snappy first, then the raw bytes; Remote Write 1.0 first, then 2.0
 * (unless --version says which). A body of one version read as the other parses as a message with
 * only unknown fields, so an attempt counts as a match only when it finds something (series or
 * metadata) or nothing it does not understand.
 */
import { readFile } from 'node:fs/promises'
import { HISTOGRAM_FLOAT, type Counts } from '../batch/layout.js'
import type { RowBatch } from '../batch/row-batch.js'
import { decodeWriteRequest } from '../decode/decode-write-request.js'
import type { ProtocolVersion } from '../decode/options.js'
import { IngestError, toIngestError } from '../errors.js'
import { formatSeries, type Labels } from '../series/labels.js'

/** Where the command writes; the process' stdout and stderr unless a caller (a test) says otherwise. */
export interface InspectIo {
  out (text: string): void
  err (text: string): void
}

const processIo: InspectIo = {
  out: text => { process.stdout.write(text) },
  err: text => { process.stderr.write(text) }
}

const USAGE = `Usage: prom-ingest inspect FILE... [--json] [--version 1.0|2.0] [--series N]

Decodes captured remote-write request bodies (snappy-compressed or raw; Remote Write 1.0 or 2.0,
found by trying both unless --version is given) and prints what they hold.

Options:
  --json           one JSON document on stdout instead of text
  --version V      the protocol version of the bodies: 1.0 or 2.0 (default: try 1.0, then 2.0)
  --series N       how many series to print with their samples (default 5)
  --help           this text
`

/** Samples printed per series (the rest are counted). */
const SAMPLES_SHOWN = 10
const STALE_NAN = 0x7ff0000000000002n

interface Args { files: string[], json: boolean, version: ProtocolVersion | undefined, series: number }

function parseArgs (argv: readonly string[]): Args | string {
  const args: Args = { files: [], json: false, version: undefined, series: 5 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--json') args.json = true
    else if (a === '--version' || a.startsWith('--version=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v !== '1.0' && v !== '2.0') return `--version must be 1.0 or 2.0, got ${JSON.stringify(v ?? '')}`
      args.version = v
    } else if (a === '--series' || a.startsWith('--series=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      const n = Number(v)
      if (v === undefined || v === '' || !Number.isInteger(n) || n < 0) return `--series must be a whole number, got ${JSON.stringify(v ?? '')}`
      args.series = n
    } else if (a === '--') {
      args.files.push(...argv.slice(i + 1))
      break
    } else if (a.startsWith('-') && a !== '-') return `unknown option ${a}`
    else args.files.push(a)
  }
  if (args.files.length === 0) return 'no FILE given'
  return args
}

/** How a body was read. */
interface Format { readonly compression: 'snappy' | 'none', readonly version: ProtocolVersion, readonly versionDetected: boolean }

/** Decodes a body trying each format in turn; throws the most telling error when none fits. */
function decodeAnyFormat (body: Uint8Array, version: ProtocolVersion | undefined): { batch: RowBatch, format: Format } {
  const versions: ProtocolVersion[] = version !== undefined ? [version] : ['1.0', '2.0']
  let fallback: { batch: RowBatch, format: Format } | undefined
  const errors: Record<'snappy' | 'none', IngestError | undefined> = { snappy: undefined, none: undefined }
  for (const compression of ['snappy', 'none'] as const) {
    for (const v of versions) {
      let batch: RowBatch
      try {
        batch = decodeWriteRequest(body, { compressed: compression === 'snappy', version: v })
      } catch (err) {
        errors[compression] ??= toIngestError(err)
        continue
      }
      const format: Format = { compression, version: v, versionDetected: version === undefined }
      if (batch.seriesCount + batch.metadataCount > 0 || batch.ignoredFieldCount === 0) return { batch, format }
      fallback ??= { batch, format }
    }
  }
  if (fallback !== undefined) return fallback
  // Snappy that decompressed is snappy: its error is the one to show; else the raw attempt's, unless
  // that one could not even walk the bytes (then the body is most likely damaged snappy).
  const snappy = errors.snappy!
  const raw = errors.none!
  if (snappy.code !== 'snappy_malformed' && snappy.code !== 'decompressed_too_large') throw snappy
  if (raw.code !== 'protobuf_malformed') throw raw
  throw new IngestError(snappy.code, `${snappy.message} (read as snappy); read as raw protobuf: ${raw.message}`, snappy.detail)
}

/** A sample value as the Prometheus HTTP API writes it (a string), stale markers named. */
function formatValue (value: number, bits: bigint): string {
  if (bits === STALE_NAN) return 'stale'
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function bitsOf (a: Float64Array, i: number): bigint {
  return new DataView(a.buffer, a.byteOffset + 8 * i, 8).getBigUint64(0, true)
}

interface SeriesReport {
  series: string
  labels: Labels
  samples: Array<[timestampMs: number, value: string]>
  moreSamples: number
  histograms: Array<{ timestampMs: number, kind: 'int' | 'float', count: number, sum: string, schema: number }>
  exemplars: Array<{ labels: string, timestampMs: number, value: string }>
}

interface FileReport {
  file: string
  compression: 'snappy' | 'none'
  version: ProtocolVersion
  versionDetected: boolean
  bytesIn: number
  bytesDecompressed: number
  /** The size of the row batch the body became. */
  bytesOut: number
  series: number
  newSeries: number
  samples: number
  exemplars: number
  histograms: number
  metadata: number
  ignoredFields: number
  labelsPerSeries: { min: number, avg: number, max: number }
  firstSeries: SeriesReport[]
}

function report (file: string, body: Uint8Array, batch: RowBatch, format: Format, shown: number): FileReport {
  const counts: Readonly<Counts> = batch.counts
  let min = Infinity
  let max = 0
  let total = 0
  const labelsOf = (id: number): Labels => batch.labelsOf(id) ?? []
  for (let i = 0; i < batch.seriesCount; i++) {
    const n = labelsOf(batch.seriesRefs[i]!).length
    if (n < min) min = n
    if (n > max) max = n
    total += n
  }
  // The first `shown` distinct series, in request order, with their rows.
  const first = new Map<number, SeriesReport>()
  for (let i = 0; i < batch.seriesCount && first.size < shown; i++) {
    const id = batch.seriesRefs[i]!
    if (first.has(id)) continue
    const labels = labelsOf(id)
    first.set(id, { series: formatSeries(labels), labels, samples: [], moreSamples: 0, histograms: [], exemplars: [] })
  }
  for (let i = 0; i < batch.sampleCount; i++) {
    const s = first.get(batch.seriesIds[i]!)
    if (s === undefined) continue
    if (s.samples.length < SAMPLES_SHOWN) s.samples.push([batch.timestamps[i]!, formatValue(batch.values[i]!, batch.valueBits(i))])
    else s.moreSamples++
  }
  for (let i = 0; i < batch.histogramCount; i++) {
    const s = first.get(batch.histogramSeriesIds[i]!)
    if (s === undefined || s.histograms.length >= SAMPLES_SHOWN) continue
    s.histograms.push({
      timestampMs: batch.histogramTimestamps[i]!,
      kind: batch.histogramKinds[i] === HISTOGRAM_FLOAT ? 'float' : 'int',
      count: batch.histogramCounts[i]!,
      sum: formatValue(batch.histogramSums[i]!, bitsOf(batch.histogramSums, i)),
      schema: batch.histogramSchemas[i]!
    })
  }
  for (let i = 0; i < batch.exemplarCount; i++) {
    const s = first.get(batch.exemplarSeriesIds[i]!)
    if (s === undefined || s.exemplars.length >= SAMPLES_SHOWN) continue
    const l = batch.exemplarLabels(i).map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')
    s.exemplars.push({ labels: `{${l}}`, timestampMs: batch.exemplarTimestamps[i]!, value: formatValue(batch.exemplarValues[i]!, bitsOf(batch.exemplarValues, i)) })
  }
  return {
    file,
    compression: format.compression,
    version: format.version,
    versionDetected: format.versionDetected,
    bytesIn: body.length,
    bytesDecompressed: counts.decompressedBytes,
    bytesOut: batch.buffer.byteLength,
    series: batch.seriesCount,
    newSeries: batch.newSeriesCount,
    samples: batch.sampleCount,
    exemplars: batch.exemplarCount,
    histograms: batch.histogramCount,
    metadata: batch.metadataCount,
    ignoredFields: batch.ignoredFieldCount,
    labelsPerSeries: batch.seriesCount === 0 ? { min: 0, avg: 0, max: 0 } : { min, avg: total / batch.seriesCount, max },
    firstSeries: [...first.values()]
  }
}

function text (r: FileReport): string {
  const lines = [
    `${r.file}`,
    `  format:     Remote Write ${r.version}${r.versionDetected ? ' (detected)' : ''}, ${r.compression === 'snappy' ? 'snappy-compressed' : 'uncompressed (raw protobuf)'}`,
    `  bytes:      ${r.bytesIn} in, ${r.bytesDecompressed} decompressed, ${r.bytesOut} out (row batch)`,
    `  series:     ${r.series} (${r.newSeries} new to this process)`,
    `  samples:    ${r.samples}`,
    `  exemplars:  ${r.exemplars}`,
    `  histograms: ${r.histograms}`,
    `  metadata:   ${r.metadata}`,
    `  labels per series: min ${r.labelsPerSeries.min}, avg ${r.labelsPerSeries.avg.toFixed(2)}, max ${r.labelsPerSeries.max}`
  ]
  if (r.ignoredFields > 0) lines.push(`  ignored fields: ${r.ignoredFields} (unknown to the protocol)`)
  if (r.firstSeries.length > 0) lines.push(`  first ${r.firstSeries.length} series:`)
  for (const s of r.firstSeries) {
    lines.push(`    ${s.series}`)
    for (const [t, v] of s.samples) lines.push(`      ${v} @${t}`)
    if (s.moreSamples > 0) lines.push(`      ... ${s.moreSamples} more samples`)
    for (const h of s.histograms) lines.push(`      histogram (${h.kind}) count=${h.count} sum=${h.sum} schema=${h.schema} @${h.timestampMs}`)
    for (const e of s.exemplars) lines.push(`      # exemplar ${e.labels} ${e.value} @${e.timestampMs}`)
  }
  return lines.join('\n') + '\n'
}

/** Runs `prom-ingest inspect`; returns the exit code (0 fine, 1 a body failed to decode, 2 bad arguments). */
export async function runInspect (argv: string[], io: InspectIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(USAGE)
    return 0
  }
  const args = parseArgs(argv)
  if (typeof args === 'string') {
    io.err(`prom-ingest inspect: ${args}\n\n${USAGE}`)
    return 2
  }
  const results: Array<FileReport | { file: string, error: { code: string, message: string } }> = []
  let failed = false
  for (const file of args.files) {
    try {
      const body = new Uint8Array(await readFile(file))
      const { batch, format } = decodeAnyFormat(body, args.version)
      const r = report(file, body, batch, format, args.series)
      results.push(r)
      if (!args.json) io.out(text(r))
    } catch (err) {
      failed = true
      const e = err instanceof IngestError ? err : err instanceof Error && 'code' in err && typeof err.code === 'string' ? { code: err.code, message: err.message } : toIngestError(err)
      results.push({ file, error: { code: e.code, message: e.message } })
      if (!args.json) io.err(`${file}: ${e.code}: ${e.message}\n`)
    }
  }
  if (args.json) io.out(JSON.stringify({ files: results }, null, 2) + '\n')
  return failed ? 1 : 0
}
