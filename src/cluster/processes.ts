import { freePort } from '../lib/free-port.js';
import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createEmoServer, type EmoServer } from '../server/app.js';
import type { AppConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { loadUws } from '../server/transport-uws.js';
import type { ClusterBus } from './bus.js';
import { HostPrimaryBus } from './host-bus.js';
import { openRedisBus } from './open-bus.js';

/** Messages between the primary and its server processes (IPC). */
export type NodeRequest =
  | { t: 'start'; config: AppConfig; nodeId: string; group: string; bus: 'host' | 'redis' | 'none'; primary: string }
  | { t: 'close'; drainMs: number }
  | { t: 'crash' };
export type NodeReply = { t: 'ready'; port: number } | { t: 'failed'; error: string };

/** The running server, however many processes serve it. */
export interface RunningServer {
  readonly port: number;
  readonly logger: Logger;
  /** Server processes on this host (the primary's own server counts). */
  readonly processes: number;
  /** The primary's own server; the others are child processes. */
  readonly first: EmoServer;
  /** Node id of each process (index 0: the primary's). */
  readonly nodeIds: readonly string[];
  /** Process id of each server process now (index 0: the primary's own). */
  readonly pids: readonly number[];
  /** Server processes that died and were replaced (counted once the replacement serves). */
  readonly respawns: number;
  /** Test hook: an uncaught exception in server process `index` (1..N-1); it closes, exits, a replacement starts. */
  crashProcess(index: number): void;
  /** Stops every process; with `drainMs` (SIGTERM) running sessions get that long to end by themselves first. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

const CHILD_ENTRY = fileURLToPath(new URL('./node-process.ts', import.meta.url));

/** server.processes, or the deprecated server.eventLoops when only that is set. */
export function processCount(config: Readonly<AppConfig>): number {
  return config.server.processes > 1 ? config.server.processes : config.server.eventLoops;
}

/** The config one process runs with: its share of maxSessions and the port they all share. */
function processConfig(config: Readonly<AppConfig>, count: number, port?: number): AppConfig {
  const copy = structuredClone(config) as AppConfig;
  copy.server.maxSessions = Math.max(1, Math.ceil(config.server.maxSessions / count));
  if (port !== undefined) copy.server.port = port;
  return copy;
}

function whyNotSeveral(config: Readonly<AppConfig>): string | null {
  if (config.server.transport !== 'uws') return 'several processes on one port need the uws transport (SO_REUSEPORT)';
  try {
    loadUws();
  } catch (err) {
    return `uWebSockets.js failed to load (${err instanceof Error ? err.message : String(err)})`;
  }
  return null;
}

/**
 * Starts the server: with server.processes N > 1 the primary (this process) serves too and forks N - 1 more, each a
 * whole server on the same port (uWebSockets.js with SO_REUSEPORT: the kernel spreads connections), restarts one that
 * dies and stops them all on close. They share a cluster bus: Redis when cluster.redisUrl is set (then this host is
 * part of a larger cluster), else the primary's IPC. One process without Redis has no bus at all.
 */
export async function startServer(config: Readonly<AppConfig>): Promise<RunningServer> {
  const log = createLogger(config, { service: 'emostream' });
  let count = processCount(config);
  if (config.server.eventLoops > 1 && config.server.processes === 1) log.warn(`server.eventLoops is deprecated: running ${count} processes (set server.processes)`);
  const why = count > 1 ? whyNotSeveral(config) : null;
  if (why) {
    log.warn(`server.processes ${count}: ${why}; serving from one process`);
    count = 1;
  }
  const base = config.cluster.nodeId ?? `${hostname()}-${process.pid}`;
  const nodeIds = Array.from({ length: count }, (_, i) => (count > 1 ? `${base}/${i}` : base));
  const redis = await openRedisBus(config, nodeIds[0], base, log);
  const bus: ClusterBus | null = redis ?? (count > 1 ? new HostPrimaryBus(nodeIds[0], base, config.cluster.maxPendingPublishes) : null);
  const hostBus = bus instanceof HostPrimaryBus ? bus : null;
  // uSockets shares a port between sockets (SO_REUSEPORT) only when it is given one, not for port 0: pick it here.
  const fixedPort = count > 1 && config.server.port === 0 ? await freePort(config.server.host) : undefined;
  let first: EmoServer;
  try {
    first = await createEmoServer({ config: count > 1 ? processConfig(config, count, fixedPort) : config, ...(bus ? { bus } : {}) });
  } catch (err) {
    await bus?.close();
    throw err;
  }
  const port = await first.listen();
  const children: ChildProcess[] = [];
  const exits = new Map<ChildProcess, Promise<void>>();
  let closing: Promise<void> | null = null;
  let respawns = 0;

  const spawn = async (index: number): Promise<void> => {
    const child = fork(CHILD_ENTRY, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    exits.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
    children[index] = child;
    hostBus?.attach(nodeIds[index], child);
    child.send({ t: 'start', config: processConfig(config, count, port), nodeId: nodeIds[index], group: base, bus: bus?.kind ?? 'none', primary: nodeIds[0] } satisfies NodeRequest);
    await childReady(child, index);
    child.once('exit', (code, signal) => {
      hostBus?.detach(nodeIds[index]);
      if (closing || children[index] !== child) return;
      // Its sessions are gone (their clients see the close); new connections need the process back.
      first.logger.error({ process: index, code, signal }, `server process ${index} exited (${signal ?? `code ${code}`}); its sessions are lost; starting a replacement`);
      spawn(index).then(() => { respawns++; }).catch((err: unknown) => first.logger.error({ process: index, err: err instanceof Error ? err.message : String(err) }, `replacement server process ${index} failed to start`));
    });
  };
  const stopChildren = (drainMs: number) => Promise.all(children.filter(Boolean).map((c) => {
    if (c.connected) c.send({ t: 'close', drainMs } satisfies NodeRequest);
    return exits.get(c)!;
  }));
  try {
    for (let index = 1; index < count; index++) await spawn(index);
  } catch (err) {
    closing = Promise.resolve();
    await stopChildren(0);
    await first.close();
    throw err;
  }
  if (count > 1) first.logger.info({ port, processes: count, bus: bus?.kind }, `serving from ${count} processes`);
  return {
    port, logger: first.logger, processes: count, first, nodeIds,
    get respawns() { return respawns; },
    get pids() { return [process.pid, ...children.slice(1).map((c) => c.pid ?? 0)]; },
    crashProcess: (index) => {
      const c = children[index];
      if (!c) throw new Error(`no server process ${index}`);
      c.send({ t: 'crash' } satisfies NodeRequest);
    },
    close: (opts) => (closing ??= (async () => {
      await Promise.all([stopChildren(opts?.drainMs ?? 0), first.close(opts)]);
    })()),
  };
}

function childReady(child: ChildProcess, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server process ${index} exited with code ${code} while starting`));
    child.once('exit', onExit);
    child.on('message', (m: NodeReply) => {
      if (m.t === 'ready') {
        child.off('exit', onExit);
        resolve();
      } else if (m.t === 'failed') reject(new Error(`server process ${index} failed to start: ${m.error}`));
    });
  });
}

