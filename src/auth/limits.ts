import type { LimitsConfig } from './config.js';
import { refusal, type AuthRefusal, type Identity } from './types.js';

type Kind = 'session' | 'subscription';

/**
 * Concurrent sessions and subscriptions per identity and per remote address, on this event loop. acquire() returns
 * a release function (call it once, when the session or subscription ends) or the refusal to answer.
 */
export class ConnectionLimits {
  private readonly counts = new Map<string, number>();

  constructor(private readonly cfg: LimitsConfig) {}

  acquire(kind: Kind, identity: Identity, addr: string): (() => void) | AuthRefusal {
    const perIdentity = kind === 'session'
      ? identity.limits.maxSessions || this.cfg.maxSessionsPerIdentity
      : identity.limits.maxSubscriptions || this.cfg.maxSubscriptionsPerIdentity;
    const perIp = kind === 'session' ? this.cfg.maxSessionsPerIp : this.cfg.maxSubscriptionsPerIp;
    const idKey = `${kind}|id|${identity.owner}`;
    const ipKey = `${kind}|ip|${addr}`;
    const what = kind === 'session' ? 'sessions' : 'subscriptions';
    if (perIdentity > 0 && (this.counts.get(idKey) ?? 0) >= perIdentity) {
      return refusal(429, 'EMO_ERR_TOO_MANY_SESSIONS', `identity holds its maximum of ${perIdentity} concurrent ${what}`);
    }
    if (perIp > 0 && (this.counts.get(ipKey) ?? 0) >= perIp) {
      return refusal(429, 'EMO_ERR_TOO_MANY_SESSIONS', `this address holds its maximum of ${perIp} concurrent ${what}`);
    }
    this.add(idKey, 1);
    this.add(ipKey, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.add(idKey, -1);
      this.add(ipKey, -1);
    };
  }

  count(kind: Kind, by: 'id' | 'ip', key: string): number {
    return this.counts.get(`${kind}|${by}|${key}`) ?? 0;
  }

  private add(key: string, d: number): void {
    const n = (this.counts.get(key) ?? 0) + d;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}
