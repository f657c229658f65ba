/**
 * Remote Write 1.0: walks a `prometheus.WriteRequest` and writes its rows into the batch.
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 *   message Exemplar     { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
 *   message MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 *   (Histogram: see histogram-reader.ts.)
 *
 * The steady state, a series the process has seen: its label fields are one contiguous run of
 * bytes in canonical form, so the run is hashed and compared with the stored key in place, and no
 * label is looked at one by one. Anything else (a new series, fields out of the usual order, an
 * empty value written out) goes through the label scratch, where it is made canonical and checked.
 */
import { hashLabels } from '../series/label-hash.js'
import { labelRunValid } from './label-check.js'
import { isValidUtf8 } from './utf8.js'
import { GATEWAY_SERIES, type Walker } from './series-walker.js'
import { fields } from './wire-reader.js'

const WRITE_REQUEST_FIELDS = fields(1, 3) // 2 is reserved: treated as unknown
const TIME_SERIES_FIELDS = fields(1, 2, 3, 4)
const LABEL_FIELDS = fields(1, 2)
const EXEMPLAR_FIELDS = fields(1, 2, 3)
const METADATA_FIELDS = fields(1, 2, 4, 5)

/** Gateway mode: the label fields of the current series when they were checked in place (start -1: in the scratch). */
let inPlaceStart = -1
let inPlaceEnd = -1

export function walkWriteRequestV1 (w: Walker, start: number, end: number): void {
  w.fillLabels = fillLabels
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x0a) {
      const e = w.lengthDelimited(end, 'timeseries')
      timeSeries(w, w.pos, e)
      w.pos = e
    } else if (tag === 0x1a) {
      const e = w.lengthDelimited(end, 'metadata')
      metadata(w, w.pos, e)
      w.pos = e
    } else {
      w.unknown(tag, end, WRITE_REQUEST_FIELDS)
    }
  }
}

function timeSeries (w: Walker, start: number, end: number): void {
  // Pass 1: where the labels are, how many rows of each kind follow.
  let labelsStart = -1
  let labelsEnd = -1
  let contiguous = true
  let labelCount = 0
  let samples = 0
  let others = 0
  const u8 = w.u8
  let p = start
  while (p < end) {
    const at = p
    // Fast path: a one-byte tag and a one-byte length (labels and samples are under 128 bytes),
    // read from local variables; anything else goes through the general readers.
    let tag = u8[p]!
    let e: number
    if (tag < 0x80 && (tag & 7) === 2 && u8[p + 1]! < 0x80) {
      e = p + 2 + u8[p + 1]!
      if (e > end) w.malformed(`field ${tag >>> 3} of ${u8[p + 1]} bytes overruns its message`, p)
    } else {
      w.pos = p
      tag = w.varint(end)
      if ((tag & 7) !== 2) { w.unknown(tag, end, TIME_SERIES_FIELDS); p = w.pos; continue }
      e = w.lengthDelimited(end, 'field')
    }
    p = e
    if (tag === 0x0a) {
      if (labelsStart < 0) labelsStart = at
      else if (labelsEnd !== at) contiguous = false
      labelsEnd = e
      labelCount++
    } else if (tag === 0x12) {
      samples++
    } else if (tag === 0x1a || tag === 0x22) {
      others++
    } else {
      w.ignoredFieldCount++
    }
  }
  w.seriesOrdinal++

  // The series: found in place (steady state), or through the scratch.
  let id = 0
  let guessed = 0
  inPlaceStart = -1
  if (w.validateOnly) {
    // Gateway: no index. Labels in canonical form are checked where they are; the rest as new series.
    if (contiguous && labelCount > 0 && labelRunValid(w.u8, w.d, labelsStart, labelsEnd, labelCount, w.opts, w.tk.prefix.length)) {
      id = GATEWAY_SERIES
      inPlaceStart = labelsStart
      inPlaceEnd = labelsEnd
    }
  } else if (contiguous && labelCount > 0 && (w.labels.dropName === undefined || (w.seriesOrdinal > 1 && w.haReplica === ''))) {
    // With HA deduplication the first series goes through the scratch (its HA labels decide the
    // request), and so do the others when it had a replica label: senders put it on every series (an
    // external label), and the body's bytes with it are never a key of the index, so finding them in
    // place would only miss (docs/tenant-limits.md).
    // The series that came after the previous one last time, checked by its bytes: no hash, no probe.
    guessed = w.guess()
    if (guessed !== 0 && w.index.keyMatches(guessed, w.d, labelsStart, labelsEnd, w.tk)) {
      id = guessed
    } else {
      hashLabels(w.d, labelsStart, labelsEnd, w.tk.seed)
      id = w.index.find(w.d, labelsStart, labelsEnd, w.tk)
    }
  }
  w.labels.reset()
  if (id === 0) {
    w.pos = start
    while (w.pos < end) {
      const tag = w.varint(end)
      if (tag === 0x0a) {
        const e = w.lengthDelimited(end, 'label')
        label(w, w.pos, e, false)
        w.pos = e
      } else {
        w.skip(tag, end, false)
      }
    }
    id = w.resolveScratch()
    if (id === 0) return
  }
  if (!w.validateOnly) w.resolved(id, guessed)
  if (w.rules !== undefined) {
    id = w.rules.apply(w, id, samples + others)
    if (id === 0) return
  }

  // Pass 2: the rows.
  const b = w.builder
  if (others > 0) b.mark() // only exemplars and histograms can be found invalid half-way
  b.seriesRefs.push(id)
  if (samples === 0 && others === 0) return
  b.ensureSamples(samples)
  w.pos = contiguous && labelsStart === start ? labelsEnd : start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x12) {
      const e = w.lengthDelimited(end, 'sample')
      w.sample(w.pos, e, id, 0, false)
      w.pos = e
    } else if (tag === 0x1a) {
      const e = w.lengthDelimited(end, 'exemplar')
      if (!exemplar(w, w.pos, e, id)) { b.rollback(); return }
      w.pos = e
    } else if (tag === 0x22) {
      const e = w.lengthDelimited(end, 'histogram')
      if (!w.histogram(w.pos, e, id, 0, false)) { b.rollback(); return }
      w.pos = e
    } else {
      w.skip(tag, end, false)
    }
  }
}

/** Gateway mode: the labels of a series checked in place, into the scratch (for an error message about its rows). */
function fillLabels (w: Walker): void {
  if (inPlaceStart < 0 || w.labels.count > 0) return
  const at = w.pos
  w.pos = inPlaceStart
  while (w.pos < inPlaceEnd) {
    w.varint(inPlaceEnd) // the tag, 0x0a: checked in place
    const e = w.lengthDelimited(inPlaceEnd, 'label')
    label(w, w.pos, e, false)
    w.pos = e
  }
  w.pos = at
}

/** Label {1: name, 2: value} into the series scratch, or the exemplar scratch. */
function label (w: Walker, start: number, end: number, ofExemplar: boolean): void {
  let nameAt = 0
  let nameLength = 0
  let valueAt = 0
  let valueLength = 0
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x0a) {
      const e = w.lengthDelimited(end, 'label name')
      nameAt = w.pos; nameLength = e - w.pos; w.pos = e
    } else if (tag === 0x12) {
      const e = w.lengthDelimited(end, 'label value')
      valueAt = w.pos; valueLength = e - w.pos; w.pos = e
    } else {
      w.unknown(tag, end, LABEL_FIELDS)
    }
  }
  ;(ofExemplar ? w.exemplarLabels : w.labels).add(w.u8, w.d, nameAt, nameLength, valueAt, valueLength)
}

function exemplar (w: Walker, start: number, end: number, id: number): boolean {
  let valueAt = -1
  let ts = 0
  w.exemplarLabels.reset()
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x0a) {
      const e = w.lengthDelimited(end, 'exemplar label')
      label(w, w.pos, e, true)
      w.pos = e
    } else if (tag === 0x11) {
      valueAt = w.pos; w.pos += 8
    } else if (tag === 0x18) {
      ts = w.int64(end)
    } else {
      w.unknown(tag, end, EXEMPLAR_FIELDS)
    }
  }
  if (w.pos > end) w.malformed('truncated exemplar', start)
  return w.exemplar(id, valueAt, ts)
}

function metadata (w: Walker, start: number, end: number): void {
  let type = 0
  let familyAt = 0; let familyLength = 0
  let helpAt = 0; let helpLength = 0
  let unitAt = 0; let unitLength = 0
  w.pos = start
  while (w.pos < end) {
    const tag = w.varint(end)
    if (tag === 0x08) type = w.varint(end)
    else if (tag === 0x12 || tag === 0x22 || tag === 0x2a) {
      const e = w.lengthDelimited(end, 'metadata text')
      if (tag === 0x12) { familyAt = w.pos; familyLength = e - w.pos } else if (tag === 0x22) { helpAt = w.pos; helpLength = e - w.pos } else { unitAt = w.pos; unitLength = e - w.pos }
      w.pos = e
    } else {
      w.unknown(tag, end, METADATA_FIELDS)
    }
  }
  const u8 = w.u8
  if (w.opts.strictUtf8 && !(isValidUtf8(u8, familyAt, familyAt + familyLength) && isValidUtf8(u8, helpAt, helpAt + helpLength) && isValidUtf8(u8, unitAt, unitAt + unitLength))) {
    w.invalid('metadata_invalid', `metadata entry of family "${new TextDecoder().decode(u8.subarray(familyAt, familyAt + familyLength))}": family name, help or unit is not valid UTF-8`)
    return
  }
  w.builder.addMetadata(0, type, w.d, familyAt, familyLength, w.d, helpAt, helpLength, unitAt, unitLength)
}
