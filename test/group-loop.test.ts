import { describe, expect, it } from 'vitest'
import { GroupLoop } from '../src/group-loop.js'

describe('GroupLoop', () => {
  it('runs once at a time, and again while work waits', async () => {
    let waiting = 3
    let runs = 0
    let concurrent = 0
    let most = 0
    const loop = new GroupLoop(async () => {
      concurrent++; most = Math.max(most, concurrent); runs++
      await Promise.resolve()
      waiting--
      concurrent--
    }, () => waiting > 0)
    loop.start(); loop.start(); loop.start()
    await loop.drain()
    expect({ runs, most, waiting }).toEqual({ runs: 3, most: 1, waiting: 0 })
  })

  it('drain cuts a long sleep short and is urgent meanwhile', async () => {
    let sawUrgent = false
    const loop = new GroupLoop(async () => {
      await loop.sleep(3_600_000) // an hour: only a wake ends it within the test
      sawUrgent = loop.urgent
    }, () => false)
    loop.start()
    await loop.drain()
    expect(sawUrgent).toBe(true)
    expect(loop.urgent).toBe(false)
  })

  it('until says whether the promise or a wake came first', async () => {
    const loop = new GroupLoop(async () => {}, () => false)
    expect(await loop.until(Promise.resolve())).toBe(true)
    const never = new Promise<void>(() => {})
    const woken = loop.until(never)
    loop.wake()
    expect(await woken).toBe(false)
  })
})
