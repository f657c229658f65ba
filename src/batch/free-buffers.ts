/**
 * Frees ArrayBuffers now instead of at the next garbage collection: for batch buffers that a thread
 * is done with (the store's worker, once the transaction holding them has settled).
 *
 * Why: a batch's memory is outside the JavaScript heap (malloc), and V8 frees it only when it collects
 * the ArrayBuffer object. The store's worker allocates little JavaScript per batch, so collections are
 * rare and a batch that lived through a commit (20 to 400 ms) is promoted to the old generation, which
 * V8 collects only once external memory has grown by tens of MiB. Under the e2e load (300 KB batches,
 * 70 a second) that left 6 to 40 MiB of dead batches per moment, and malloc's arenas kept the pages.
 *
 * How: a buffer in the transfer list of a `postMessage` is detached from its ArrayBuffer object, as the
 * HTML spec requires even on a closed port; the message is then dropped and its contents (the backing
 * store) freed at once. Every view of a freed buffer reads as empty afterwards, so call it
 * only when nothing uses the buffer any more.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads'

let drain: MessagePort | undefined

/** A closed port: what is posted to it is detached, dropped and freed. */
function drainPort (): MessagePort {
  if (drain === undefined) {
    const { port1, port2 } = new MessageChannel()
    port1.close()
    port2.close()
    drain = port1
  }
  return drain
}

/** Frees the memory of `buffers` now; each is left detached (byteLength 0). Detached ones are skipped. */
export function freeBuffers (buffers: readonly ArrayBuffer[]): void {
  const live = buffers.filter(b => b.byteLength > 0)
  if (live.length > 0) drainPort().postMessage(null, live)
}
