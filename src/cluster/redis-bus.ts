import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BusCore, type ClusterBus, type Envelope, type NodeStatus, type SessionEntry } from './bus.js';

export interface RedisBusOptions {
  url: string;
  nodeId: string;
  group: string;
  /** How often this node refreshes its own and its sessions' directory entries. */
  heartbeatMs: number;
  /** Entries not refreshed for this long expire: a dead node's sessions are lost after at most this + heartbeatMs. */
  nodeTtlMs: number;
  /** Publishes not yet acknowledged by Redis; beyond it new ones are dropped (streaming never waits on Redis). */
  maxPendingPublishes: number;
  /** How long start-up waits for Redis before giving up. */
  connectTimeoutMs: number;
  log: Logger;
}

const PREFIX = 'emostream:';
const nodeKey = (id: string) => `${PREFIX}node:${id}`;
const sessionKey = (id: string) => `${PREFIX}session:${id}`;
const inbox = (id: string) => `${PREFIX}to:${id}`;

/**
 * The cluster bus over Redis (ioredis): the directory is keys with a TTL (`emostream:node:ID`, `emostream:session:ID`,
 * claimed with SET NX, refreshed every heartbeat), messages go by PUBLISH to each node's own channel. Redis being
 * down never blocks a session: publishes are fire-and-forget with a bounded number in flight, directory writes are
 * retried by the next heartbeat (which also re-registers everything after Redis restarts empty).
 */
export class RedisBus extends BusCore implements ClusterBus {
  readonly kind = 'redis' as const;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly local = new Map<string, string>();
  private status = { sessions: 0, draining: false };
  private timer: NodeJS.Timeout | null = null;
  private pendingPublishes = 0;
  /** Publishes dropped because Redis was down or too far behind (for /metrics). */
  droppedPublishes = 0;
  /** Nodes alive at the last heartbeat; one missing at the next is gone. */
  private seen = new Set<string>();
  private down = false;
  /** After Redis comes back, other nodes need a heartbeat to re-register before their absence means anything. */
  private readyAt = 0;

  private constructor(private readonly o: RedisBusOptions) {
    super(o.nodeId, o.group);
    // No offline queue: a command while Redis is unreachable fails at once instead of piling up.
    const common = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 500 };
    this.cmd = new Redis(o.url, common);
    this.sub = new Redis(o.url, { ...common, enableOfflineQueue: true });
    const swallow = () => undefined;
    this.sub.on('error', swallow);
    this.cmd.on('error', (err: Error) => {
      if (this.down || this.closed) return;
      this.down = true;
      o.log.error({ redis: redactUrl(o.url), err: err.message }, 'Redis unreachable: the cluster directory and cross-node fan-out pause until it is back; sessions keep streaming');
    });
    this.cmd.on('ready', () => {
      this.readyAt = Date.now();
      if (!this.down) return;
      this.down = false;
      o.log.warn({ redis: redactUrl(o.url) }, 'Redis reachable again: node and sessions re-registered');
      void this.beat();
    });
    this.sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => {
      try {
        this.receive(JSON.parse(msg.toString('utf8')) as Envelope);
      } catch { /* not ours */ }
    });
  }

  /** Connects (or throws a clear error), registers this node and starts its heartbeat. */
  static async start(o: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(o);
    try {
      await withTimeout(Promise.all([bus.cmd.connect(), bus.sub.connect()]), o.connectTimeoutMs);
      await bus.sub.subscribe(inbox(o.nodeId));
      await bus.beat();
    } catch (err) {
      bus.cmd.disconnect();
      bus.sub.disconnect();
      throw new Error(`cluster.redisUrl ${redactUrl(o.url)}: Redis not reachable (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    bus.timer = setInterval(() => void bus.beat(), o.heartbeatMs);
    bus.timer.unref();
    return bus;
  }

  protected deliver(to: string, env: Envelope): void {
    if (this.cmd.status !== 'ready' || this.pendingPublishes >= this.o.maxPendingPublishes) {
      this.droppedPublishes++;
      return;
    }
    this.pendingPublishes++;
    this.cmd.publish(inbox(to), JSON.stringify(env)).then(
      () => { this.pendingPublishes--; },
      () => { this.pendingPublishes--; this.droppedPublishes++; },
    );
  }

  /** Refreshes this node's and its sessions' entries, then notices nodes whose entries expired. */
  private async beat(): Promise<void> {
    if (this.closed || this.cmd.status !== 'ready') return;
    const ttl = this.o.nodeTtlMs;
    try {
      const p = this.cmd.pipeline();
      p.set(nodeKey(this.nodeId), JSON.stringify({ id: this.nodeId, group: this.group, ...this.status } satisfies NodeStatus), 'PX', ttl);
      for (const [sid, owner] of this.local) p.set(sessionKey(sid), JSON.stringify({ node: this.nodeId, owner } satisfies SessionEntry), 'PX', ttl);
      await p.exec();
      const alive = new Set((await this.nodes()).map((n) => n.id));
      // Right after Redis came back (empty, maybe) the others have not re-registered yet: wait one TTL.
      if (Date.now() - this.readyAt > ttl + this.o.heartbeatMs) {
        for (const id of this.seen) if (!alive.has(id) && id !== this.nodeId) this.nodeGone(id);
      }
      this.seen = alive;
    } catch {
      // Redis went away mid-beat: the 'error' handler has said so; the next beat retries.
    }
  }

  async claim(sessionId: string, owner: string): Promise<boolean> {
    this.local.set(sessionId, owner);
    try {
      const ok = await this.cmd.set(sessionKey(sessionId), JSON.stringify({ node: this.nodeId, owner } satisfies SessionEntry), 'PX', this.o.nodeTtlMs, 'NX');
      if (ok === 'OK') return true;
      const held = await this.locate(sessionId);
      if (held && held.node !== this.nodeId) {
        this.local.delete(sessionId);
        return false;
      }
      return true;
    } catch {
      // Redis down: the session runs here and is registered by the heartbeat once Redis is back.
      return true;
    }
  }

  release(sessionId: string): void {
    const owner = this.local.get(sessionId);
    if (owner === undefined || !this.local.delete(sessionId) || this.cmd.status !== 'ready') return;
    // Only our own entry (another node may hold the id by now): compare and delete in one step.
    this.cmd.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1,
      sessionKey(sessionId), JSON.stringify({ node: this.nodeId, owner } satisfies SessionEntry)).catch(() => undefined);
  }

  async locate(sessionId: string): Promise<SessionEntry | null> {
    try {
      const raw = await this.cmd.get(sessionKey(sessionId));
      return raw ? (JSON.parse(raw) as SessionEntry) : null;
    } catch {
      return null;
    }
  }

  async nodes(): Promise<NodeStatus[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.cmd.scan(cursor, 'MATCH', `${PREFIX}node:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    return (await this.cmd.mget(...keys)).filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeStatus);
  }

  setStatus(s: { sessions: number; draining: boolean }): void {
    const changed = s.draining !== this.status.draining;
    this.status = { ...s };
    // Draining is news for the other nodes' /healthz now, not at the next beat.
    if (changed) void this.beat();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.stopAsking();
    try {
      if (this.cmd.status === 'ready') {
        const p = this.cmd.pipeline().del(nodeKey(this.nodeId));
        for (const sid of this.local.keys()) p.del(sessionKey(sid));
        await withTimeout(p.exec(), 1000);
      }
    } catch { /* Redis down: the entries expire by themselves */ }
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
