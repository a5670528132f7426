/**
 * The cluster bus: how the server processes of one host (server.processes) and the nodes of a Redis cluster
 * (cluster.redisUrl) find each other's sessions and pass results, ends, WHIP DELETEs and questions. One interface,
 * two implementations: `HostBus` (the primary's IPC, no Redis) and `RedisBus`. Without either (one process, no Redis)
 * the server runs with no bus at all. docs/scale-out.md describes the model.
 */

/** A live session in the directory: the node holding it and the owner key of its creator (src/auth). */
export interface SessionEntry { node: string; owner: string }

/** A live node as the directory sees it (heartbeat). `group`: the processes of one `serve` share it. */
export interface NodeStatus { id: string; group: string; sessions: number; draining: boolean }

export type Answerer = (body: unknown, from: string) => Promise<unknown> | unknown;
export type NoteListener = (body: unknown, from: string) => void;

export interface ClusterBus {
  readonly kind: 'host' | 'redis';
  readonly nodeId: string;
  readonly group: string;
  /** Registers `sessionId` for this node; false when another node holds it (atomic: the second claimant loses). */
  claim(sessionId: string, owner: string): Promise<boolean>;
  /** The session ended here: its directory entry goes. */
  release(sessionId: string): void;
  /** Which node holds a live session (null: none, or the directory cannot be reached). */
  locate(sessionId: string): Promise<SessionEntry | null>;
  /** Live nodes of the cluster (this one included). */
  nodes(): Promise<NodeStatus[]>;
  /** This node's load and state, published with its heartbeat. */
  setStatus(status: { sessions: number; draining: boolean }): void;
  /** Fire-and-forget message to one node (never waits, never throws; dropped when the bus cannot carry it). */
  send(to: string, kind: string, body: unknown): void;
  /** Asks `to`; resolves with the non-null answers once each has replied or after `timeoutMs`. */
  ask<T>(to: readonly string[], kind: string, body: unknown, timeoutMs: number): Promise<T[]>;
  answer(kind: string, fn: Answerer): void;
  on(kind: string, fn: NoteListener): void;
  /** A node died (its directory entries expired or its process exited): its sessions are lost. */
  onNodeGone(fn: (nodeId: string) => void): void;
  /** Deregisters this node and its sessions from the directory and stops. */
  close(): Promise<void>;
}

/** What travels between nodes. */
export type Envelope =
  | { t: 'note'; kind: string; from: string; body: unknown }
  | { t: 'ask'; kind: string; from: string; req: number; body: unknown }
  | { t: 'answer'; from: string; req: number; body: unknown };

/**
 * Questions, answers and notes over any carrier: a subclass says how an envelope reaches a node (`deliver`) and
 * hands every envelope that arrives to `receive`. An ask resolves as soon as every asked node replied, so asking
 * about something nobody holds costs one round trip, not the time-out.
 */
export abstract class BusCore {
  private nextReq = 1;
  private readonly pending = new Map<number, { answers: unknown[]; waiting: Set<string>; done: () => void }>();
  private readonly answerers = new Map<string, Answerer>();
  private readonly listeners = new Map<string, NoteListener>();
  private readonly goneListeners: ((nodeId: string) => void)[] = [];
  protected closed = false;

  constructor(readonly nodeId: string, readonly group: string) {}

  protected abstract deliver(to: string, env: Envelope): void;

  answer(kind: string, fn: Answerer): void {
    this.answerers.set(kind, fn);
  }

  on(kind: string, fn: NoteListener): void {
    this.listeners.set(kind, fn);
  }

  onNodeGone(fn: (nodeId: string) => void): void {
    this.goneListeners.push(fn);
  }

  send(to: string, kind: string, body: unknown): void {
    if (!this.closed) this.deliver(to, { t: 'note', kind, from: this.nodeId, body });
  }

  ask<T>(to: readonly string[], kind: string, body: unknown, timeoutMs: number): Promise<T[]> {
    const targets = new Set(to.filter((n) => n !== this.nodeId));
    if (this.closed || targets.size === 0) return Promise.resolve([]);
    const req = this.nextReq++;
    return new Promise<T[]>((resolve) => {
      const answers: unknown[] = [];
      const timer = setTimeout(() => done(), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(req);
        resolve(answers.filter((a) => a !== null && a !== undefined) as T[]);
      };
      this.pending.set(req, { answers, waiting: targets, done });
      for (const node of targets) this.deliver(node, { t: 'ask', kind, from: this.nodeId, req, body });
    });
  }

  /** Every envelope addressed to this node comes through here. */
  protected receive(env: Envelope): void {
    if (this.closed) return;
    if (env.t === 'note') {
      this.listeners.get(env.kind)?.(env.body, env.from);
    } else if (env.t === 'ask') {
      const fn = this.answerers.get(env.kind);
      const reply = (body: unknown) => {
        if (!this.closed) this.deliver(env.from, { t: 'answer', from: this.nodeId, req: env.req, body });
      };
      if (!fn) return reply(null);
      Promise.resolve().then(() => fn(env.body, env.from)).then(reply, () => reply(null));
    } else {
      const p = this.pending.get(env.req);
      if (!p) return;
      p.answers.push(env.body);
      p.waiting.delete(env.from);
      if (p.waiting.size === 0) p.done();
    }
  }

  /** Node `gone` died: pending questions stop waiting for it and the listeners hear of it. */
  protected nodeGone(gone: string): void {
    for (const p of [...this.pending.values()]) {
      if (p.waiting.delete(gone) && p.waiting.size === 0) p.done();
    }
    for (const fn of this.goneListeners) fn(gone);
  }

  protected stopAsking(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) p.done();
  }
}
