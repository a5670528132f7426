import { createEmoServer, type EmoServer } from '../server/app.js';
import { createLogger } from '../server/logger.js';
import type { ClusterBus } from './bus.js';
import { HostChildBus } from './host-bus.js';
import { openRedisBus } from './open-bus.js';
import type { NodeReply, NodeRequest } from './processes.js';

/** One server process of server.processes > 1, forked by the primary (processes.ts): a whole server on the shared port. */
let server: EmoServer | null = null;
let stopping: Promise<void> | null = null;
/** Settles when start-up has finished, either way (a stop asked for meanwhile waits for it, then closes what started). */
let started: Promise<void> = Promise.resolve();

const reply = (m: NodeReply) => {
  if (process.connected) process.send!(m);
};

/** Closes the server (draining `drainMs` first), then exits: every session has ended and its subscribers were told. */
function stop(drainMs: number, exitCode: number): Promise<void> {
  return (stopping ??= (async () => {
    try {
      await started;
      await server?.close({ drainMs });
    } finally {
      process.exit(exitCode);
    }
  })());
}

process.on('uncaughtException', (err) => {
  server?.logger.error({ err: err.message, stack: err.stack }, 'uncaught exception; closing this server process (the primary starts a replacement)');
  void stop(0, 1);
});
// A signal sent to this process alone (or to the whole group: the primary forwards its own as a 'close') drains it.
process.on('SIGTERM', () => void stop(server?.config.server.drainTimeoutMs ?? 0, 0));
process.on('SIGINT', () => undefined);
// The primary is gone: nobody restarts or stops this process any more.
process.on('disconnect', () => void stop(0, 0));

process.on('message', (m: NodeRequest) => {
  if (m.t === 'close') void stop(m.drainMs, 0);
  // Test hook: an exception nobody catches, thrown from this process's event loop.
  else if (m.t === 'crash') setTimeout(() => { throw new Error('crash requested (test)'); }, 0);
  else if (m.t === 'start') {
    started = (async () => {
      try {
        const log = createLogger(m.config, { service: 'emostream', node: m.nodeId });
        const bus: ClusterBus | null = m.bus === 'redis'
          ? await openRedisBus(m.config, m.nodeId, m.group, log)
          : m.bus === 'host' ? new HostChildBus(m.nodeId, m.group, m.primary) : null;
        server = await createEmoServer({ config: m.config, logger: log, ...(bus ? { bus } : {}) });
        const port = await server.listen();
        if (!stopping) reply({ t: 'ready', port });
      } catch (err) {
        reply({ t: 'failed', error: err instanceof Error ? err.message : String(err) });
        void stop(0, 1);
      }
    })();
  }
});
