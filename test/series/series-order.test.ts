import { describe, expect, it } from 'vitest'
import { SeriesOrder } from '../../src/series/series-order.js'

describe('SeriesOrder', () => {
  it('remembers which series followed which, the last time', () => {
    const order = new SeriesOrder()
    expect(order.guess(0)).toBe(0)
    order.follow(0, 7)
    order.follow(7, 3)
    expect(order.guess(0)).toBe(7)
    expect(order.guess(7)).toBe(3)
    order.follow(7, 9)
    expect(order.guess(7)).toBe(9)
    expect(order.guess(3)).toBe(0)
  })

  it('grows with the ids it sees and keeps what it knew', () => {
    const order = new SeriesOrder()
    order.follow(5, 6)
    order.follow(100_000, 1)
    expect(order.guess(100_000)).toBe(1)
    expect(order.guess(5)).toBe(6)
    expect(order.guess(1 << 30)).toBe(0)
  })
})
