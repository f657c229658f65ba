// The crash test's child (test/queue/crash.test.ts): opens the forward queue in argv[2] and appends
// records from 4 concurrent writers in a loop (argv[5] = consume: with a reader committing behind them), printing `ack <id> <position> <size>` for each append
// as soon as it resolved (fsync'd), until it is killed. Stdout is a pipe: writes are synchronous on
// Linux, so a printed line was in the pipe before the kill. Runs the compiled queue from dist/.
import { DurableLog } from '../../dist/src/queue/durable-log.js'

const [dir, segmentBytes, firstId, mode] = process.argv.slice(2)
const log = await DurableLog.open({ dir, segmentBytes: Number(segmentBytes) })

/** The payload of record `id`: its id in the first 4 bytes, then bytes derived from the id (crash.test.ts checks them the same way). */
function parts (id, size) {
  const out = new Uint8Array(size)
  new DataView(out.buffer).setUint32(0, id, true)
  for (let i = 4; i < size; i++) out[i] = (id * 31 + i * 7) & 0xff
  const cut = size >> 1
  return [out.subarray(0, cut), out.subarray(cut)]
}

/** Sizes from 4 bytes to 20 KB, and every 25th record 100 KB: larger than a segment in the test. */
const sizeOf = id => id % 25 === 0 ? 100_000 : 4 + (id * 7919) % 20_000

let next = Number(firstId)
async function writer () {
  for (;;) {
    const id = next++
    const size = sizeOf(id)
    const position = await log.append(parts(id, size))
    process.stdout.write(`ack ${id} ${position} ${size}\n`)
  }
}
/**
 * With `consume`: a destination that keeps up, reading and committing everything behind the writers,
 * so that segments are released and recycled (docs/forward-queue.md, "Recycled segments"). Prints
 * `recycled <n>` each time a segment is started in a recycled file.
 */
async function consumer () {
  const cursor = log.cursor('consumer')
  let recycled = 0
  for (;;) {
    await cursor.waitForData()
    const records = await cursor.read(16, 1 << 20)
    if (records.length > 0) await cursor.commit(records[records.length - 1].next)
    const now = log.stats().recycledSegments
    if (now > recycled) { recycled = now; process.stdout.write(`recycled ${now}\n`) }
  }
}
process.stdout.write(`ready ${log.head}\n`)
if (mode === 'consume') consumer()
for (let w = 0; w < 4; w++) writer()
