import { SignJWT } from 'jose';
import { isScope, SESSION_ID_PATTERN, type Scope } from './types.js';

export interface MintOptions {
  /** HS256 secret (server.auth.jwt.secret). */
  secret: string;
  sub: string;
  scopes: readonly Scope[];
  /** Pins the token to one session (and names the session a publish token creates). */
  session?: string;
  ttlS: number;
  audience: string;
  issuer?: string;
}

/** An HS256 JWT the server accepts: what a backend mints for its users (docs/security.md shows it without this code). */
export async function mintToken(o: MintOptions): Promise<string> {
  if (o.session !== undefined && !SESSION_ID_PATTERN.test(o.session)) throw new Error(`session id ${JSON.stringify(o.session)} is not 1-128 of A-Z a-z 0-9 . _ : -`);
  const jwt = new SignJWT({ scope: o.scopes.join(' '), ...(o.session ? { session: o.session } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setAudience(o.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + o.ttlS);
  if (o.issuer) jwt.setIssuer(o.issuer);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** '90s', '15m', '12h', '7d' or plain seconds -> seconds. */
export function parseTtlS(ttl: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(ttl.trim());
  if (!m) throw new Error(`--ttl ${ttl}: expected a number with s, m, h or d (e.g. 15m)`);
  const s = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (s < 1 || s > 366 * 86400) throw new Error(`--ttl ${ttl}: between 1 s and 366 d`);
  return s;
}

/** 'publish,subscribe' or repeated flags -> scopes; unknown names are an error (a typo must not mint a weaker token). */
export function parseScopes(list: readonly string[]): Scope[] {
  const out = list.flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
  const bad = out.filter((s) => !isScope(s));
  if (bad.length > 0) throw new Error(`unknown scope ${bad.join(', ')}: use publish, subscribe, admin, history:read, history:delete`);
  if (out.length === 0) throw new Error('give at least one --scope');
  return [...new Set(out)] as Scope[];
}
