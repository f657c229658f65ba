/**
 * The V8 heap bounds of the service's worker threads (the decode workers, the store's worker),
 * setting worker-young-generation.
 *
 * Under a steady allocation rate each isolate grows its young generation to V8's maximum (semi-spaces
 * of 16 MiB on 64-bit, three of them: about 48 MiB), and that memory stays resident. The workers'
 * allocations are short-lived (a request's scratch, a batch's views), so a small young generation
 * costs only more frequent, shorter scavenges.
 */

/** Worker options for `youngGenerationBytes` (rounded to whole MiB, at least 1); empty when unset or 0. */
export function workerResourceLimits (youngGenerationBytes: number | undefined): { resourceLimits?: { maxYoungGenerationSizeMb: number } } {
  if (youngGenerationBytes === undefined || youngGenerationBytes <= 0) return {}
  return { resourceLimits: { maxYoungGenerationSizeMb: Math.max(1, Math.round(youngGenerationBytes / 2 ** 20)) } }
}
