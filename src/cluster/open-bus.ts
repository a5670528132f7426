import type { Logger } from 'pino';
import type { AppConfig } from '../server/config.js';
import { RedisBus, redactUrl } from './redis-bus.js';

/** How long start-up waits for Redis before it counts as down. */
const REDIS_CONNECT_TIMEOUT_MS = 5000;

/**
 * The Redis bus for node `nodeId` when cluster.redisUrl is set, else null. Redis unreachable at start is an error
 * (the caller exits with it) unless cluster.redisOptional: then null and a warning (this node runs on its own).
 */
export async function openRedisBus(config: Readonly<AppConfig>, nodeId: string, group: string, log: Logger): Promise<RedisBus | null> {
  const c = config.cluster;
  if (!c.redisUrl) return null;
  try {
    const bus = await RedisBus.start({
      url: c.redisUrl, nodeId, group, heartbeatMs: c.heartbeatMs, nodeTtlMs: c.nodeTtlMs,
      maxPendingPublishes: c.maxPendingPublishes, connectTimeoutMs: REDIS_CONNECT_TIMEOUT_MS, log,
    });
    log.info({ redis: redactUrl(c.redisUrl), node: nodeId }, 'joined the cluster over Redis');
    return bus;
  } catch (err) {
    if (!c.redisOptional) throw err;
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster.redisOptional: Redis not reachable at start; running single-node (no cross-node subscribers, no shared directory)');
    return null;
  }
}
