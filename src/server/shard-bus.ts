import { BroadcastChannel } from 'node:worker_threads';

/** One event loop's place among the server's loops (server.eventLoops), and the channel they share. */
export interface ShardInfo {
  index: number;
  count: number;
  /** BroadcastChannel name, unique per server. */
  busName: string;
}

/** A question to every other loop, and its answers (null from a loop that does not hold the thing asked about). */
interface AskMessage { t: 'ask'; kind: string; req: number; from: number; body: unknown }
interface AnswerMessage { t: 'answer'; req: number; to: number; from: number; body: unknown }
/** Fire-and-forget notes (subscriptions, results, ends). */
export interface NoteMessage { t: 'note'; kind: string; from: number; body: unknown }
type BusMessage = AskMessage | AnswerMessage | NoteMessage;

type Answerer = (body: unknown) => Promise<unknown> | unknown;

/**
 * The event loops of one server talk over a BroadcastChannel (every loop is a thread of the same process): `note`
 * tells every other loop something, `ask` asks them all and resolves with the answers once each has replied or the
 * time-out passed, so a question about something nobody holds costs one round trip, not the time-out.
 */
export class ShardBus {
  private readonly channel: BroadcastChannel;
  private nextReq = 1;
  private readonly pending = new Map<number, { answers: unknown[]; replies: number; done: (answers: unknown[]) => void }>();
  private readonly answerers = new Map<string, Answerer>();
  private readonly listeners = new Map<string, (body: unknown, from: number) => void>();
  private closed = false;

  constructor(readonly info: ShardInfo) {
    this.channel = new BroadcastChannel(info.busName);
    this.channel.onmessage = (ev) => this.dispatch((ev as { data: unknown }).data as BusMessage);
    // The channel never keeps a loop alive on its own: the transport and the sessions do.
    this.channel.unref();
  }

  get index(): number {
    return this.info.index;
  }

  get peers(): number {
    return this.info.count - 1;
  }

  /** `kind` questions from other loops are answered by `fn` (null: not here). */
  answer(kind: string, fn: Answerer): void {
    this.answerers.set(kind, fn);
  }

  onNote(kind: string, fn: (body: unknown, from: number) => void): void {
    this.listeners.set(kind, fn);
  }

  note(kind: string, body: unknown): void {
    if (this.closed || this.peers === 0) return;
    this.channel.postMessage({ t: 'note', kind, from: this.index, body } satisfies NoteMessage);
  }

  /** Every other loop's answer that arrived within `timeoutMs` (nulls dropped); resolves early once all replied. */
  ask<T>(kind: string, body: unknown, timeoutMs: number): Promise<T[]> {
    if (this.closed || this.peers === 0) return Promise.resolve([]);
    const req = this.nextReq++;
    return new Promise<T[]>((resolve) => {
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        const p = this.pending.get(req);
        this.pending.delete(req);
        resolve((p?.answers ?? []).filter((a) => a !== null && a !== undefined) as T[]);
      };
      this.pending.set(req, { answers: [], replies: 0, done: finish });
      this.channel.postMessage({ t: 'ask', kind, req, from: this.index, body } satisfies AskMessage);
    });
  }

  private dispatch(msg: BusMessage): void {
    if (this.closed) return;
    if (msg.t === 'note') {
      this.listeners.get(msg.kind)?.(msg.body, msg.from);
    } else if (msg.t === 'ask') {
      const fn = this.answerers.get(msg.kind);
      const reply = (body: unknown) => {
        if (!this.closed) this.channel.postMessage({ t: 'answer', req: msg.req, to: msg.from, from: this.index, body } satisfies AnswerMessage);
      };
      if (!fn) return reply(null);
      Promise.resolve().then(() => fn(msg.body)).then(reply, () => reply(null));
    } else if (msg.to === this.index) {
      const p = this.pending.get(msg.req);
      if (!p) return;
      p.answers.push(msg.body);
      if (++p.replies >= this.peers) p.done(p.answers);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) p.done(p.answers);
    this.channel.close();
  }
}
