import { parentPort, workerData } from 'node:worker_threads';
import { createEmoServer } from './app.js';
import type { LoopReply, LoopRequest, LoopWorkerData } from './event-loops.js';

/** One of the server's extra event loops (server.eventLoops > 1): a whole server on the first loop's port. */
const port = parentPort!;
const { config, shard } = workerData as LoopWorkerData;
const reply = (m: LoopReply) => port.postMessage(m);

try {
  const server = await createEmoServer({ config, shard });
  reply({ t: 'ready', port: await server.listen() });
  port.on('message', (m: LoopRequest) => {
    if (m.t !== 'close') return;
    void server.close().finally(() => {
      reply({ t: 'closed' });
      // Nothing of this loop may outlive its server: the thread ends here.
      port.close();
    });
  });
} catch (err) {
  reply({ t: 'failed', error: err instanceof Error ? err.message : String(err) });
  port.close();
}
