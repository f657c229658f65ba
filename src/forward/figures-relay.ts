/**
 * A destination's send figures counted in the forward worker and carried to the main thread, where
 * the metrics registry lives: the relay gathers what happened since the last `take` (a delta) and says
 * that something changed; the worker's progress (worker-progress.ts) takes the deltas of every relay
 * once per turn of the event loop, in the message that carries the commits; `applyDelta` adds a delta
 * to the real metrics.
 */
import type { DestinationFigures, SenderFigures } from './metrics.js'

export interface FiguresDelta {
  readonly destination: string
  /** [outcome, code, count] */
  readonly requests: Array<[string, string, number]>
  readonly samplesSent: number
  readonly samplesDropped: number
  /** Send durations observed, seconds. */
  readonly durations: number[]
  readonly lastSuccess: number | undefined
  readonly stuck: number | undefined
}

export class FiguresRelay implements SenderFigures {
  private requests = new Map<string, [string, string, number]>()
  private sent = 0
  private dropped = 0
  private durations: number[] = []
  private last: number | undefined
  private stuckNow: number | undefined
  private changed = false

  readonly samplesSent = { inc: (n: number): void => { this.sent += n; this.touch() } }
  readonly samplesDropped = { inc: (n: number): void => { this.dropped += n; this.touch() } }
  readonly sendDuration = { observe: (v: number): void => { this.durations.push(v); this.touch() } }
  readonly lastSuccess = { set: (v: number): void => { this.last = v; this.touch() } }
  readonly stuck = { set: (v: number): void => { this.stuckNow = v; this.touch() } }

  /** `onChange` is called when the relay goes from nothing to tell to something to tell. */
  constructor (private readonly destination: string, private readonly onChange: () => void) {}

  request (outcome: 'sent' | 'dropped' | 'retried', code: string): { inc(n?: number): void } {
    return {
      inc: (n = 1): void => {
        const key = outcome + code
        const r = this.requests.get(key)
        if (r === undefined) this.requests.set(key, [outcome, code, n])
        else r[2] += n
        this.touch()
      }
    }
  }

  private touch (): void {
    if (this.changed) return
    this.changed = true
    this.onChange()
  }

  /** What was counted since the last take, or undefined when nothing was. */
  take (): FiguresDelta | undefined {
    if (!this.changed) return undefined
    this.changed = false
    const delta: FiguresDelta = { destination: this.destination, requests: [...this.requests.values()], samplesSent: this.sent, samplesDropped: this.dropped, durations: this.durations, lastSuccess: this.last, stuck: this.stuckNow }
    this.requests = new Map()
    this.sent = 0
    this.dropped = 0
    this.durations = []
    this.last = undefined
    this.stuckNow = undefined
    return delta
  }
}

/** Adds a worker's delta to the destination's metrics. */
export function applyDelta (figures: DestinationFigures, d: FiguresDelta): void {
  for (const [outcome, code, n] of d.requests) figures.request(outcome as 'sent' | 'dropped' | 'retried', code).inc(n)
  if (d.samplesSent > 0) figures.samplesSent.inc(d.samplesSent)
  if (d.samplesDropped > 0) figures.samplesDropped.inc(d.samplesDropped)
  for (const v of d.durations) figures.sendDuration.observe(v)
  if (d.lastSuccess !== undefined) figures.lastSuccess.set(d.lastSuccess)
  if (d.stuck !== undefined) figures.stuck.set(d.stuck)
}
