/**
 * A destination's send figures counted in the forward worker and carried to the main thread, where
 * the metrics registry lives: the relay gathers what happened since its last flush (a delta) and
 * flushes once per turn of the worker's event loop; `applyDelta` adds it to the real metrics.
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
  private scheduled = false

  readonly samplesSent = { inc: (n: number): void => { this.sent += n; this.schedule() } }
  readonly samplesDropped = { inc: (n: number): void => { this.dropped += n; this.schedule() } }
  readonly sendDuration = { observe: (v: number): void => { this.durations.push(v); this.schedule() } }
  readonly lastSuccess = { set: (v: number): void => { this.last = v; this.schedule() } }
  readonly stuck = { set: (v: number): void => { this.stuckNow = v; this.schedule() } }

  constructor (private readonly destination: string, private readonly send: (delta: FiguresDelta) => void) {}

  request (outcome: 'sent' | 'dropped' | 'retried', code: string): { inc(n?: number): void } {
    return {
      inc: (n = 1): void => {
        const key = outcome + code
        const r = this.requests.get(key)
        if (r === undefined) this.requests.set(key, [outcome, code, n])
        else r[2] += n
        this.schedule()
      }
    }
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  /** Sends what was counted since the last flush. */
  flush (): void {
    this.scheduled = false
    const delta: FiguresDelta = { destination: this.destination, requests: [...this.requests.values()], samplesSent: this.sent, samplesDropped: this.dropped, durations: this.durations, lastSuccess: this.last, stuck: this.stuckNow }
    this.requests = new Map()
    this.sent = 0
    this.dropped = 0
    this.durations = []
    this.last = undefined
    this.stuckNow = undefined
    this.send(delta)
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
