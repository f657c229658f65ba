/**
 * The forward worker's body (entry: workers/forward-worker.ts): one thread that reads the forward
 * queue through its own mirror of the log (src/queue/log-mirror.ts: it opens the segment files itself)
 * and runs every destination's sender (sender.ts). The main thread only appends and fsyncs; it tells
 * this thread of each durable group, and this thread tells it of each commit, which the main thread
 * persists in the cursor file, together with the send figures in one message per turn (worker-protocol.ts). Reading, the CRC checks on read, HTTP and the
 * socket writes therefore never hold up the thread that receives requests.
 */
import type { MessagePort } from 'node:worker_threads'
import { LogMirror } from '../queue/log-mirror.js'
import { createBatchEncoder } from './batch-encoder.js'
import { FiguresRelay } from './figures-relay.js'
import { DestinationSender, type SendLog } from './sender.js'
import { WorkerProgress } from './worker-progress.js'
import type { FromWorker, SendWorkerInit, ToWorker } from './worker-protocol.js'

export async function runSendWorker (port: MessagePort, init: SendWorkerInit): Promise<void> {
  const post = (m: FromWorker): void => port.postMessage(m)
  const log: SendLog = {
    info: (obj, msg) => post({ t: 'log', level: 'info', obj, msg }),
    warn: (obj, msg) => post({ t: 'log', level: 'warn', obj, msg }),
    error: (obj, msg) => post({ t: 'log', level: 'error', obj, msg })
  }
  const progress = new WorkerProgress(post)
  // Messages are handled one after the other (appended may open a segment file); queued until the mirror is open.
  let chain: Promise<void> = Promise.resolve()
  let mirror: LogMirror | undefined
  let senders: DestinationSender[] = []
  const opened = LogMirror.open(init.snapshot, {
    committed: (name, position) => progress.commit(name, position),
    damaged: (file, position, bytes, cursor) => post({ t: 'damaged', file, position, bytes, cursor })
  }, init.ring)
  const handle = async (m: ToWorker): Promise<void> => {
    const mi = mirror ?? await opened
    switch (m.t) {
      case 'appended': await mi.appended(m.segments, m.records, m.ringFrom); break
      case 'released': await mi.released(m.tail); break
      case 'moved': mi.moved(m.name, m.position); break
      case 'close':
        await Promise.all(senders.map(s => s.close()))
        await mi.close()
        progress.flush()
        post({ t: 'closed' })
        port.close()
        break
    }
  }
  port.on('message', (m: ToWorker) => {
    chain = chain.then(async () => await handle(m)).catch(err => {
      log.error({ err: err instanceof Error ? err.stack : String(err) }, 'forward worker: a message from the main thread failed')
    })
  })
  mirror = await opened
  const transcode = init.transcode ? createBatchEncoder() : undefined
  senders = init.destinations.map((destination, index) => {
    const relay = progress.relay(new FiguresRelay(destination.name, () => progress.changed()))
    return new DestinationSender({
      destination,
      index,
      cursor: mirror!.cursor(destination.name, init.positions[index]!),
      figures: relay,
      backoff: init.backoff,
      tenantHeader: init.tenantHeader,
      logger: log,
      transcode
    })
  })
  for (const s of senders) s.start()
  post({ t: 'started' })
}
