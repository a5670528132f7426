import { parentPort, workerData } from 'node:worker_threads';
import { createEmoServer, type EmoServer } from './app.js';
import type { LoopReply, LoopRequest, LoopWorkerData } from './event-loops.js';

/** One of the server's extra event loops (server.eventLoops > 1): a whole server on the first loop's port. */
const port = parentPort!;
const { config, shard } = workerData as LoopWorkerData;
const reply = (m: LoopReply) => port.postMessage(m);
let server: EmoServer | null = null;
let stopping: Promise<void> | null = null;
/** Settles when start-up has finished, either way (a stop asked for meanwhile waits for it, then closes what started). */
let started: Promise<void> = Promise.resolve();

/**
 * Ends this loop only after its server closed its sockets: a thread that ends with uWebSockets.js handles still open
 * aborts the whole process (Node's worker teardown asserts that its event loop is empty), so neither a crash nor a
 * stop may end the thread any other way.
 */
function stop(): Promise<void> {
  return (stopping ??= (async () => {
    try {
      await started;
      await server?.close();
    } finally {
      reply({ t: 'closed' });
      port.close();
    }
  })());
}

process.on('uncaughtException', (err) => {
  server?.logger.error({ err: err.message, stack: err.stack }, `event loop ${shard.index}: uncaught exception; closing this loop (a replacement starts)`);
  void stop();
});

port.on('message', (m: LoopRequest) => {
  if (m.t === 'close') void stop();
  // Test hook: an exception nobody catches, thrown from this loop's own event loop.
  else if (m.t === 'crash') setTimeout(() => { throw new Error('crash requested (test)'); }, 0);
});

started = (async () => {
  try {
    server = await createEmoServer({ config, shard });
    const listening = await server.listen();
    if (!stopping) reply({ t: 'ready', port: listening });
  } catch (err) {
    reply({ t: 'failed', error: err instanceof Error ? err.message : String(err) });
    void stop();
  }
})();
