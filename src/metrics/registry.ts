/**
 * The one prom-client registry of the process; every metric registers here, /metrics serves it.
 */
import { Registry } from 'prom-client'

export const registry = new Registry()
