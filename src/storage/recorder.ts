import type { EmotionResult, Welcome } from '../protocol/v1/messages.js';
import { toRow } from './compact.js';
import type { WriteQueue } from './write-queue.js';
import type { AlertRecord, ResultRow, Store } from './types.js';

/** What the session manager tells storage (src/server/session-api.ts); every call returns at once. */
export interface SessionRecorder {
  opened(s: { id: string; owner: string; client?: string; transport?: string; welcome: Welcome }): void;
  result(r: EmotionResult): void;
  ended(id: string, reason: string): void;
}

/**
 * Session history: records sessions, results and alerts through the write queue and answers reads from the store.
 * `recordAlert` takes the alerts module's `alert` messages as they are.
 */
export class History implements SessionRecorder {
  /** Live sessions recorded here: a result of an unknown session (opened before storage) is not stored. */
  private readonly live = new Map<string, { lastHop: number }>();

  /** Model name -> version (src/storage/model-versions.ts), set at start and stored with every session's models. */
  modelVersions: Record<string, string> = {};

  constructor(readonly store: Store, readonly queue: WriteQueue) {}

  opened(s: { id: string; owner: string; client?: string; transport?: string; welcome: Welcome }): void {
    this.live.set(s.id, { lastHop: -1 });
    this.queue.pushSession({
      models: s.welcome.models.map((m) => (this.modelVersions[m.name] ? { ...m, version: this.modelVersions[m.name] } : m)),
      id: s.id, owner: s.owner, startedAtMs: Date.now(), endedAtMs: null, endReason: null, client: s.client ?? null,
      transport: s.transport ?? null, windowMs: s.welcome.windowMs, hopMs: s.welcome.hopMs,
    });
  }

  result(r: EmotionResult): void {
    const live = this.live.get(r.sessionId);
    if (!live) return;
    live.lastHop = r.hop;
    this.queue.pushResult(toRow(r));
  }

  ended(id: string, reason: string): void {
    if (this.live.delete(id)) this.queue.pushEnd({ id, endedAtMs: Date.now(), endReason: reason });
  }

  recordAlert(alert: AlertRecord): void {
    this.queue.pushAlert({
      type: 'alert', sessionId: alert.sessionId, rule: alert.rule, hop: alert.hop, atUs: alert.atUs, kind: alert.kind,
      value: alert.value, message: alert.message,
    });
  }

  /** Erases a session: stops recording it, drops its queued rows, deletes what is stored. False when nothing was. */
  async erase(id: string): Promise<boolean> {
    const wasLive = this.live.delete(id);
    await this.queue.discard(id);
    return (await this.store.deleteSession(id)) || wasLive;
  }

  isLive(id: string): boolean {
    return this.live.has(id);
  }

  /**
   * The last results of a live session from hop `fromHop` on, at most `limit` (the most recent ones when there are
   * more), stored or still queued, in hop order without duplicates (a row may be both written and still listed as in
   * flight). For late joiners: call in the same tick as attaching to the live results, so nothing falls in between.
   */
  async replay(sessionId: string, fromHop: number, limit: number, waitMs = 0): Promise<{ fromHop: number; rows: ResultRow[] }> {
    const live = this.live.get(sessionId);
    const from = live ? Math.max(fromHop, live.lastHop - limit + 1, 0) : fromHop;
    const queued = this.queue.unwritten(sessionId).filter((r) => r.hop >= from);
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    // Nothing stored yet for a session of this loop that has no result from `from` on.
    const stored = live && live.lastHop < from ? [] : await this.store.timeline({ sessionId, fromHop: from, limit });
    const byHop = new Map<number, ResultRow>();
    for (const r of [...stored, ...queued]) byHop.set(r.hop, r);
    return { fromHop: from, rows: [...byHop.values()].sort((a, b) => a.hop - b.hop) };
  }
}
