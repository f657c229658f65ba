/**
 * The load of the crash tests: several senders post requests to a real service process, each
 * request recorded with its answer (204, another status, or 'no answer' when the service died
 * before answering), until the test decides to kill the service with SIGKILL, right after some
 * acknowledgement, with the other senders' requests in flight.
 */
import { Agent } from 'undici'
import { postWrite } from './remote-write.js'
import type { ServiceProcess } from './service-process.js'

export interface SentRequest { readonly id: string, status: number | 'no answer' }

export interface KillUnderLoad<S extends SentRequest> {
  readonly senders: number
  /** A bound on the requests of one sender (the kill normally ends the round long before). */
  readonly perSender: number
  /** Request `k` of sender `s`: its record (status 'no answer') and its body. */
  next(s: number, k: number): { readonly sent: S, readonly body: Uint8Array }
  /** Where each request's record is appended before it is sent. */
  readonly sent: S[]
  /** Asked after each 204: whether to kill the service now. */
  killNow(): boolean
  /** Names the round in errors. */
  readonly round: string
}

/**
 * Sends until the kill (or until a sender runs out of requests, a safety net that kills too), waits
 * for the process to exit, and throws if a request got an answer other than 204.
 */
export async function sendUntilKilled<S extends SentRequest> (service: ServiceProcess, o: KillUnderLoad<S>): Promise<void> {
  const dispatcher = new Agent({ connections: o.senders })
  let killed = false
  const kill = (): void => { if (!killed) { killed = true; service.child.kill('SIGKILL') } }
  const senders = Array.from({ length: o.senders }, async (_, s) => {
    for (let k = 0; !killed && k < o.perSender; k++) {
      const req = o.next(s, k)
      const x = req.sent
      o.sent.push(x)
      try {
        x.status = (await postWrite(service.url, req.body, { dispatcher })).status
      } catch {
        return // the service is gone
      }
      if (x.status !== 204) throw new Error(`${o.round}: ${x.id} answered ${x.status}`)
      if (o.killNow()) kill()
    }
  })
  const outcome = await Promise.allSettled(senders)
  kill() // a safety net: a sender that failed, or ran out of requests, ends the round
  await service.exited
  await dispatcher.destroy()
  for (const r of outcome) if (r.status === 'rejected') throw r.reason
}
