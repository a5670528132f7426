import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startTsWorker } from '../models/ts-worker.js';
import { createEmoServer, type EmoServer } from './app.js';
import type { AppConfig } from './config.js';
import type { ShardInfo } from './shard-bus.js';
import { loadUws } from './transport-uws.js';

/** Messages between the first event loop and the threads running the others. */
export type LoopRequest = { t: 'close' } | { t: 'crash' };
export type LoopReply = { t: 'ready'; port: number } | { t: 'failed'; error: string } | { t: 'closed' };
export interface LoopWorkerData { config: AppConfig; shard: ShardInfo }

/** The running server, however many event loops serve it. */
export interface RunningServer {
  readonly port: number;
  readonly logger: Logger;
  readonly eventLoops: number;
  /** The first loop (this thread's); the others are threads. */
  readonly first: EmoServer;
  /** Loop threads that died and were replaced (counted once the replacement serves). */
  readonly respawns: number;
  /** Test hook: an uncaught exception in loop thread `index` (1..N-1); the loop closes and a replacement starts. */
  crashLoop(index: number): void;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./event-loop-worker.ts', import.meta.url);

/** The config one loop runs with: its share of maxSessions and, for the later loops, the port the first one got. */
function loopConfig(config: Readonly<AppConfig>, count: number, port?: number): AppConfig {
  const copy = structuredClone(config) as AppConfig;
  copy.server.maxSessions = Math.max(1, Math.ceil(config.server.maxSessions / count));
  if (port !== undefined) copy.server.port = port;
  return copy;
}

function whyNotSeveral(config: Readonly<AppConfig>): string | null {
  if (config.server.transport !== 'uws') return 'several event loops need the uws transport (ws cannot share a port between threads)';
  try {
    loadUws();
  } catch (err) {
    return `uWebSockets.js failed to load (${err instanceof Error ? err.message : String(err)})`;
  }
  return null;
}

/**
 * Starts the server on `server.eventLoops` event loops: this thread's, then N - 1 threads that each run a whole
 * server (sessions, model and feature workers) listening on the same port, the kernel spreading connections over
 * them. They share a ShardBus so subscribers, WHIP DELETE and /metrics span every loop. Rejects (after stopping what
 * started) when a loop fails to start.
 */
export async function startServer(config: Readonly<AppConfig>): Promise<RunningServer> {
  let count = config.server.eventLoops;
  const why = count > 1 ? whyNotSeveral(config) : null;
  if (why) count = 1;
  const shard: ShardInfo = { index: 0, count, busName: `emostream-${process.pid}-${randomUUID()}` };
  // uSockets shares a port between sockets (SO_REUSEPORT) only when it is given one, not for port 0: pick it here.
  const fixedPort = count > 1 && config.server.port === 0 ? await freePort(config.server.host) : undefined;
  const first = await createEmoServer({ config: count > 1 ? loopConfig(config, count, fixedPort) : config, ...(count > 1 ? { shard } : {}) });
  if (why) first.logger.warn(`server.eventLoops ${config.server.eventLoops}: ${why}; serving on one event loop`);
  const port = await first.listen();
  const loops: Worker[] = [];
  let closing: Promise<void> | null = null;
  let respawns = 0;
  /** Settles when each loop thread has ended: a stop must not wait for an `exit` that already happened. */
  const exits = new Map<Worker, Promise<void>>();
  const stopLoops = () => Promise.all(loops.filter(Boolean).map((w) => stopLoop(w, exits.get(w)!)));
  const spawn = async (index: number): Promise<void> => {
    const data: LoopWorkerData = { config: loopConfig(config, count, port), shard: { ...shard, index } };
    const w = startTsWorker(WORKER_URL, { workerData: data });
    exits.set(w, new Promise((resolve) => w.once('exit', () => resolve())));
    loops[index] = w;
    // Without a listener a loop's crash would be rethrown here and take every other loop down with it.
    w.on('error', (err) => first.logger.error({ loop: index, err: err.message }, `event loop ${index} crashed`));
    await loopReady(w, index);
    w.once('exit', (code) => {
      if (closing || loops[index] !== w) return;
      // Its sessions are gone (their clients see the close); new connections need the loop back.
      first.logger.error({ loop: index, code }, `event loop ${index} exited (code ${code}); its sessions are lost; starting a replacement`);
      first.sessions.hub.loopGone(index);
      first.shards?.note('loop-gone', index);
      spawn(index).then(() => { respawns++; }).catch((err: unknown) => first.logger.error({ loop: index, err: err instanceof Error ? err.message : String(err) }, `replacement event loop ${index} failed to start`));
    });
  };
  try {
    for (let index = 1; index < count; index++) await spawn(index);
  } catch (err) {
    closing = Promise.resolve();
    await stopLoops();
    await first.close();
    throw err;
  }
  if (count > 1) first.logger.info({ port, eventLoops: count }, `serving on ${count} event loops`);
  return {
    port, logger: first.logger, eventLoops: count, first,
    get respawns() { return respawns; },
    crashLoop: (index) => {
      const w = loops[index];
      if (!w) throw new Error(`no event loop thread ${index}`);
      w.postMessage({ t: 'crash' } satisfies LoopRequest);
    },
    close: () => (closing ??= (async () => {
      await Promise.all([stopLoops(), first.close()]);
    })()),
  };
}

/** A port the OS reports free on `host` now (closed again before it is used: a small race, for port 0 only). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function loopReady(w: Worker, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`event loop ${index} exited with code ${code} while starting`));
    w.once('exit', onExit);
    w.once('error', (err) => reject(new Error(`event loop ${index} failed to start: ${err.message}`)));
    w.on('message', (m: LoopReply) => {
      if (m.t === 'ready') {
        w.off('exit', onExit);
        resolve();
      } else if (m.t === 'failed') reject(new Error(`event loop ${index} failed to start: ${m.error}`));
    });
  });
}

/**
 * Graceful stop of one loop's server; the thread ends once its sockets are closed. It is never terminated from here:
 * ending a thread that still holds uWebSockets.js handles aborts the whole process.
 */
async function stopLoop(w: Worker, exited: Promise<void>): Promise<void> {
  w.postMessage({ t: 'close' } satisfies LoopRequest);
  await exited;
}
