import type { ChildProcess } from 'node:child_process';
import { BusCore, type ClusterBus, type Envelope, type NodeStatus, type SessionEntry } from './bus.js';

/** An envelope on the IPC channel between the primary and one of its server processes, addressed to a node. */
export interface IpcBusMessage { emoBus: Envelope; to: string }

function isBusMessage(m: unknown): m is IpcBusMessage {
  return typeof m === 'object' && m !== null && 'emoBus' in m;
}

/** How long a process waits for the primary's directory (it is on the same host and answers at once). */
const DIRECTORY_ASK_MS = 2000;

/**
 * The in-host bus (server.processes > 1 without Redis). The primary process is a node too and holds the directory
 * (one map: claims are atomic because one thread serves them) and relays envelopes between its server processes over
 * their IPC channels. A process that exits is a node gone at once: the primary knows before any heartbeat would.
 */
export class HostPrimaryBus extends BusCore implements ClusterBus {
  readonly kind = 'host' as const;
  private readonly directory = new Map<string, SessionEntry>();
  private readonly children = new Map<string, ChildProcess>();
  private readonly status = new Map<string, NodeStatus>();

  constructor(nodeId: string, group: string) {
    super(nodeId, group);
    this.status.set(nodeId, { id: nodeId, group, sessions: 0, draining: false });
    this.answer('dir-claim', (body, from) => this.claimFor(from, body as SessionEntry & { sid: string }));
    this.answer('dir-locate', (sid) => this.directory.get(String(sid)) ?? null);
    this.answer('dir-nodes', () => [...this.status.values()]);
    this.on('dir-release', (sid, from) => this.releaseFor(from, String(sid)));
    this.on('dir-status', (body, from) => {
      if (this.children.has(from)) this.status.set(from, { ...(body as NodeStatus), id: from, group: this.group });
    });
  }

  /** A server process joins: envelopes it sends are relayed, envelopes for it are sent down its channel. */
  attach(nodeId: string, child: ChildProcess): void {
    this.children.set(nodeId, child);
    this.status.set(nodeId, { id: nodeId, group: this.group, sessions: 0, draining: false });
    child.on('message', (m: unknown) => {
      if (isBusMessage(m)) this.route(m.to, m.emoBus);
    });
  }

  /** The process of `nodeId` exited: its sessions leave the directory and every node hears it is gone. */
  detach(nodeId: string): void {
    if (!this.children.delete(nodeId)) return;
    this.status.delete(nodeId);
    for (const [sid, e] of [...this.directory]) if (e.node === nodeId) this.directory.delete(sid);
    for (const other of this.children.keys()) this.deliver(other, { t: 'note', kind: 'dir-gone', from: this.nodeId, body: nodeId });
    this.nodeGone(nodeId);
  }

  private route(to: string, env: Envelope): void {
    if (to === this.nodeId) this.receive(env);
    else this.deliver(to, env);
  }

  protected deliver(to: string, env: Envelope): void {
    if (to === this.nodeId) {
      queueMicrotask(() => this.receive(env));
      return;
    }
    const child = this.children.get(to);
    // A process that is gone or restarting drops what was meant for it, like a closed socket would.
    if (child?.connected) child.send({ emoBus: env, to } satisfies IpcBusMessage, (err) => { if (err) { /* gone meanwhile */ } });
  }

  private claimFor(node: string, e: { sid: string; owner: string }): boolean {
    const held = this.directory.get(e.sid);
    if (held && held.node !== node) return false;
    this.directory.set(e.sid, { node, owner: e.owner });
    return true;
  }

  private releaseFor(node: string, sid: string): void {
    if (this.directory.get(sid)?.node === node) this.directory.delete(sid);
  }

  claim(sessionId: string, owner: string): Promise<boolean> {
    return Promise.resolve(this.claimFor(this.nodeId, { sid: sessionId, owner }));
  }

  release(sessionId: string): void {
    this.releaseFor(this.nodeId, sessionId);
  }

  locate(sessionId: string): Promise<SessionEntry | null> {
    return Promise.resolve(this.directory.get(sessionId) ?? null);
  }

  nodes(): Promise<NodeStatus[]> {
    return Promise.resolve([...this.status.values()]);
  }

  setStatus(s: { sessions: number; draining: boolean }): void {
    this.status.set(this.nodeId, { id: this.nodeId, group: this.group, ...s });
  }

  close(): Promise<void> {
    for (const [sid, e] of [...this.directory]) if (e.node === this.nodeId) this.directory.delete(sid);
    this.stopAsking();
    return Promise.resolve();
  }
}

/** The bus as one server process of the host sees it: everything goes through the primary over IPC. */
export class HostChildBus extends BusCore implements ClusterBus {
  readonly kind = 'host' as const;
  private readonly onMessage = (m: unknown) => {
    if (isBusMessage(m)) this.receive(m.emoBus);
  };

  constructor(nodeId: string, group: string, private readonly primary: string) {
    super(nodeId, group);
    process.on('message', this.onMessage);
    this.on('dir-gone', (gone) => this.nodeGone(String(gone)));
  }

  protected deliver(to: string, env: Envelope): void {
    if (to === this.nodeId) {
      queueMicrotask(() => this.receive(env));
      return;
    }
    if (process.connected) process.send!({ emoBus: env, to } satisfies IpcBusMessage, (err: Error | null) => { if (err) { /* primary gone */ } });
  }

  async claim(sessionId: string, owner: string): Promise<boolean> {
    const [ok] = await this.ask<boolean>([this.primary], 'dir-claim', { sid: sessionId, owner }, DIRECTORY_ASK_MS);
    // No answer (the primary is gone, so is the host's directory): the session stays local.
    return ok ?? true;
  }

  release(sessionId: string): void {
    this.send(this.primary, 'dir-release', sessionId);
  }

  async locate(sessionId: string): Promise<SessionEntry | null> {
    return (await this.ask<SessionEntry>([this.primary], 'dir-locate', sessionId, DIRECTORY_ASK_MS))[0] ?? null;
  }

  async nodes(): Promise<NodeStatus[]> {
    return (await this.ask<NodeStatus[]>([this.primary], 'dir-nodes', null, DIRECTORY_ASK_MS))[0] ?? [];
  }

  setStatus(s: { sessions: number; draining: boolean }): void {
    this.send(this.primary, 'dir-status', s);
  }

  close(): Promise<void> {
    this.stopAsking();
    process.off('message', this.onMessage);
    return Promise.resolve();
  }
}
