// Moved to src/runtime/ts-worker.ts; this re-export remains only for src/server/event-loops.ts (changed by the
// event-loop-process work), and goes when that file stops importing it.
export { startTsWorker } from '../runtime/ts-worker.js';
