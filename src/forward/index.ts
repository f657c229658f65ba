/** The forward sink and what main.ts needs to build it (loaded only when `--sink` lists forward). */
export { createForwardSink, ForwardSink, type ForwardSinkOptions } from './forward-sink.js'
export { destinationsOf, type Destination } from './destinations.js'
export { createBatchEncoder } from './batch-encoder.js'
export { DestinationRules } from './destination-rules.js'
