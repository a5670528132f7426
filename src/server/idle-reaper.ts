import { ProtocolError } from '../protocol/v1/errors.js';
import type { StreamSession } from './session.js';

/**
 * Ends sessions that received no accepted media frame for `timeoutMs` (EMO_ERR_IDLE, close 4034): a client that
 * says hello and then nothing (transport pings keep its socket alive, and they do not count here) cannot hold a
 * session slot. Frames the server refused do not count either. One timer per event loop sweeps every session,
 * often enough that a session ends at most a quarter of the timeout (1 s at most) late.
 */
export class IdleReaper {
  private timer: NodeJS.Timeout | null = null;
  private reaped = 0;

  constructor(
    readonly timeoutMs: number,
    private readonly sessions: () => Iterable<StreamSession>,
    private readonly onReap?: (session: StreamSession) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get reapedCount(): number {
    return this.reaped;
  }

  start(): void {
    if (this.timer) return;
    const everyMs = Math.max(25, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.timer = setInterval(() => this.sweep(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ends every open session idle for longer than the timeout; returns how many. */
  sweep(): number {
    const now = this.nowMs();
    const idle = [...this.sessions()].filter((s) => s.isOpen && now - s.admission.lastMediaAtMs > this.timeoutMs);
    for (const s of idle) {
      const quietMs = Math.round(now - s.admission.lastMediaAtMs);
      this.onReap?.(s);
      s.fail(new ProtocolError('EMO_ERR_IDLE', `no media accepted for ${quietMs} ms (server.idleSessionTimeoutMs = ${this.timeoutMs}): session ended`));
    }
    this.reaped += idle.length;
    return idle.length;
  }
}
