import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MAX_TOKEN_CHARS } from './jwt.js';
import { refusal, SCOPES, SESSION_ID_PATTERN, type AuthOutcome, type Identity } from './types.js';

/**
 * The API keys file: each key stored as the hex SHA-256 of the key, never the key. SHA-256 rather than scrypt or
 * bcrypt because the keys are 256-bit random strings (`emostream token --new-api-key`), not passwords: there is
 * no dictionary to slow down, and a deliberately slow hash would hand every unauthenticated request ~50 ms of
 * CPU (a denial of service). Looking the hash up in a Map leaks nothing about a stored key's bytes.
 */
const keyEntrySchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'key ids are 1-64 of A-Z a-z 0-9 . _ -'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lower-case hex digits'),
  scopes: z.array(z.enum(SCOPES)).min(1),
  session: z.string().regex(SESSION_ID_PATTERN).optional(),
  /** Concurrent sessions / subscriptions this key may hold (0 = the server's per-identity limit). */
  maxSessions: z.number().int().min(0).default(0),
  maxSubscriptions: z.number().int().min(0).default(0),
  /** ISO date after which the key is refused. */
  expires: z.iso.datetime({ offset: true }).optional(),
  disabled: z.boolean().default(false),
}).strict();

export const apiKeysFileSchema = z.object({ keys: z.array(keyEntrySchema) }).strict();
export type ApiKeyEntry = z.infer<typeof keyEntrySchema>;

export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (prefix `emo_` so secret scanners can spot it) and the entry to paste into the keys file. */
export function newApiKey(id: string, scopes: string[]): { key: string; entry: Record<string, unknown> } {
  const key = `emo_${randomBytes(32).toString('base64url')}`;
  return { key, entry: { id, sha256: sha256Hex(key), scopes } };
}

export class ApiKeyStore {
  private readonly byHash = new Map<string, ApiKeyEntry>();

  constructor(entries: readonly ApiKeyEntry[]) {
    const ids = new Set<string>();
    for (const e of entries) {
      if (ids.has(e.id)) throw new Error(`API key id ${e.id} appears twice`);
      ids.add(e.id);
      this.byHash.set(e.sha256, e);
    }
  }

  static fromFile(file: string): ApiKeyStore {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read API keys file ${file}: ${(err as Error).message}`, { cause: err });
    }
    const res = apiKeysFileSchema.safeParse(doc);
    if (!res.success) throw new Error(`API keys file ${file}: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return new ApiKeyStore(res.data.keys);
  }

  get size(): number {
    return this.byHash.size;
  }

  verify(key: string, nowMs = Date.now()): AuthOutcome {
    if (key.length > MAX_TOKEN_CHARS) return { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'API key too long') };
    const e = this.byHash.get(sha256Hex(key));
    if (!e || e.disabled) return { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'unknown or disabled API key') };
    const expiresAtMs = e.expires ? Date.parse(e.expires) : null;
    if (expiresAtMs !== null && expiresAtMs <= nowMs) return { ok: false, refusal: refusal(401, 'EMO_ERR_TOKEN_EXPIRED', `API key ${e.id} expired`) };
    const identity: Identity = {
      kind: 'api-key', subject: e.id, owner: `key:${e.id}`, scopes: e.scopes, session: e.session ?? null,
      limits: { maxSessions: e.maxSessions, maxSubscriptions: e.maxSubscriptions }, expiresAtMs,
    };
    return { ok: true, identity };
  }
}
