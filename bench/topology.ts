/**
 * The servers a load benchmark runs against: one node (as before), one node of N processes (`server.processes`), or
 * K nodes on distinct loopback ports sharing one redis-server (`cluster.redisUrl`) behind HAProxy, which is what the
 * load generator then connects to. Every process started here is stopped by `stop()`, and by bench/procs.ts's
 * handlers if the bench fails or is interrupted.
 */
import { freePort, spawnManaged, stopAll, waitReady, type Managed } from './procs.js';
import { startHaproxy, startRedis } from './services.js';

export interface TopologyOptions {
  nodes: number;
  /** Processes per node (EMOSTREAM_PROCESSES); undefined leaves the server's default. */
  processes?: number;
  /** Redis between the nodes; default: on when nodes > 1. */
  redis: boolean;
  /** Port of a single node reached directly (nodes = 1 without balancer); multi-node runs take free ports. */
  port: number;
  /** Arguments after `bin/emostream.mjs` (serve, transport, provider). */
  serveArgs: string[];
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeFlags: string[];
  env: NodeJS.ProcessEnv;
  /** HAProxy template (deploy/haproxy.cfg); the balancer runs when nodes > 1 or `balancer` is true. */
  haproxyCfg: string;
  balancer: boolean;
  /** Server drain on SIGTERM: short, the sessions have ended when the bench stops the nodes. */
  drainTimeoutMs: number;
}

export interface NodeHandle { nodeId: string; port: number; proc: Managed; httpUrl: string }

export interface Topology {
  /** What clients connect to (the balancer, or the single node). */
  url: string;
  httpUrl: string;
  nodes: NodeHandle[];
  redis: { proc: Managed; port: number; url: string } | null;
  balancer: { proc: Managed; port: number; template: string } | null;
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}

async function startNode(nodeId: string, port: number, o: TopologyOptions, redisUrl: string | null): Promise<NodeHandle> {
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    EMOSTREAM_DRAIN_TIMEOUT_MS: String(o.drainTimeoutMs),
    ...(o.processes !== undefined ? { EMOSTREAM_PROCESSES: String(o.processes) } : {}),
    ...(redisUrl ? { EMOSTREAM_REDIS_URL: redisUrl, EMOSTREAM_NODE_ID: nodeId } : {}),
  };
  const proc = spawnManaged(nodeId, process.execPath, [...o.nodeFlags, 'bin/emostream.mjs', ...o.serveArgs, '--port', String(port), '--host', '127.0.0.1'], { env });
  const httpUrl = `http://127.0.0.1:${port}`;
  await waitReady(proc, 'a healthy /healthz', async () => (await fetch(`${httpUrl}/healthz`)).ok, 90_000, 250);
  return { nodeId, port, proc, httpUrl };
}

export async function startTopology(o: TopologyOptions): Promise<Topology> {
  if (!(Number.isInteger(o.nodes) && o.nodes >= 1)) throw new Error(`--nodes must be an integer >= 1 (got ${o.nodes})`);
  const withBalancer = o.nodes > 1 || o.balancer;
  try {
    const redis = o.redis ? await startRedis() : null;
    const ports = withBalancer ? await Promise.all(Array.from({ length: o.nodes }, () => freePort())) : [o.port];
    // Nodes start one after another: each loads the models, and starting them together only makes each slower.
    const nodes: NodeHandle[] = [];
    for (let k = 0; k < o.nodes; k++) nodes.push(await startNode(`node${k + 1}`, ports[k], o, redis?.url ?? null));
    const lb = withBalancer ? await startHaproxy(ports, o.haproxyCfg) : null;
    const front = lb ? lb.port : ports[0];
    return {
      url: `ws://127.0.0.1:${front}`,
      httpUrl: `http://127.0.0.1:${front}`,
      nodes,
      redis: redis ? { proc: redis.proc, port: redis.port, url: redis.url } : null,
      balancer: lb ? { proc: lb.proc, port: lb.port, template: lb.template } : null,
      describe: () => ({
        nodes: o.nodes,
        processesPerNode: o.processes ?? 'default',
        redis: redis !== null,
        balancer: lb ? { kind: 'haproxy', config: lb.template } : null,
        nodePorts: ports,
      }),
      stop: () => stopAll(o.drainTimeoutMs + 5000),
    };
  } catch (err) {
    await stopAll(3000);
    throw err;
  }
}
