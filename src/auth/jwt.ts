import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from './config.js';
import { isScope, refusal, SESSION_ID_PATTERN, type AuthOutcome, type Identity, type Scope } from './types.js';

/** Algorithms an asymmetric key of each type verifies; anything else (`none` above all) is refused. */
const ALGS_BY_KEY_TYPE: Record<string, string[]> = { rsa: ['RS256'], ec: ['ES256'], ed25519: ['EdDSA'] };
const JWKS_ALGS = ['RS256', 'ES256', 'EdDSA'];

/** Longest token considered: bounds the work a request can cause (a real JWT is well under 2 KiB). */
export const MAX_TOKEN_CHARS = 8192;

/**
 * Verifies JWTs with jose: HS256 with the shared secret, and/or RS256/ES256/EdDSA with an identity provider's public
 * key or JWKS (verify only). `exp` is required; `nbf`, `aud` and `iss` are checked; the key is chosen by the header's
 * `alg`, so a token can never pick a weaker path (no `none`, no HS256 with a public key as secret).
 */
export class JwtVerifier {
  private readonly algorithms: string[];
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly cfg: AuthConfig['jwt']) {
    const secret = cfg.secret ? new TextEncoder().encode(cfg.secret) : null;
    let pem: { key: KeyObject; algs: string[] } | null = null;
    if (cfg.publicKeyFile) {
      const key = createPublicKey(readFileSync(cfg.publicKeyFile, 'utf8'));
      const algs = ALGS_BY_KEY_TYPE[key.asymmetricKeyType ?? ''];
      if (!algs) throw new Error(`server.auth.jwt.publicKeyFile ${cfg.publicKeyFile}: unsupported key type ${key.asymmetricKeyType} (RSA, EC P-256 or Ed25519)`);
      pem = { key, algs };
    }
    let jwks: ReturnType<typeof createLocalJWKSet> | null = null;
    if (cfg.jwksFile) {
      const doc = JSON.parse(readFileSync(cfg.jwksFile, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(doc.keys) || doc.keys.length === 0) throw new Error(`server.auth.jwt.jwksFile ${cfg.jwksFile}: no "keys" array`);
      jwks = createLocalJWKSet(doc as Parameters<typeof createLocalJWKSet>[0]);
    }
    this.algorithms = [...new Set([...(secret ? ['HS256'] : []), ...(pem?.algs ?? []), ...(jwks ? JWKS_ALGS : [])])];
    this.getKey = async (header, token) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (pem && pem.algs.includes(header.alg)) return pem.key;
      if (jwks) return jwks(header, token);
      throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
    };
  }

  async verify(token: string): Promise<AuthOutcome> {
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', `token longer than ${MAX_TOKEN_CHARS} characters`) };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        audience: this.cfg.audience,
        ...(this.cfg.issuer ? { issuer: this.cfg.issuer } : {}),
        clockTolerance: this.cfg.clockToleranceS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      return { ok: false, refusal: jwtRefusal(err) };
    }
    return identityFromClaims(payload);
  }
}

/** A sentence for each way a token fails; names the check, never echoes the token. */
function jwtRefusal(err: unknown): ReturnType<typeof refusal> {
  if (err instanceof errors.JWTExpired) return refusal(401, 'EMO_ERR_TOKEN_EXPIRED', 'token expired (exp has passed)');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return refusal(401, 'EMO_ERR_TOKEN_EXPIRED', 'token not yet valid (nbf is in the future)');
    return refusal(401, 'EMO_ERR_UNAUTHORIZED', `token claim ${err.claim} rejected: ${err.reason === 'missing' ? 'missing' : 'unexpected value'}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return refusal(401, 'EMO_ERR_UNAUTHORIZED', 'token algorithm not allowed');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refusal(401, 'EMO_ERR_UNAUTHORIZED', 'token signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return refusal(401, 'EMO_ERR_UNAUTHORIZED', 'no key in the JWKS matches the token');
  return refusal(401, 'EMO_ERR_UNAUTHORIZED', 'token malformed');
}

/** Scopes from `scope` (OAuth: space-separated) or `scopes` (array); unknown ones are ignored. */
function scopesOf(payload: JWTPayload): Scope[] {
  const raw = payload.scope ?? payload.scopes;
  const list = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : [];
  return [...new Set(list.filter(isScope))];
}

function identityFromClaims(payload: JWTPayload): AuthOutcome {
  const sub = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : null;
  if (!sub || sub.length > 256) return { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'token has no usable sub claim') };
  const session = payload.session;
  if (session !== undefined && (typeof session !== 'string' || !SESSION_ID_PATTERN.test(session))) {
    return { ok: false, refusal: refusal(401, 'EMO_ERR_UNAUTHORIZED', 'token session claim is not a valid session id') };
  }
  const identity: Identity = {
    kind: 'jwt', subject: sub, owner: `jwt:${sub}`, scopes: scopesOf(payload), session: session ?? null,
    limits: { maxSessions: 0, maxSubscriptions: 0 }, expiresAtMs: (payload.exp ?? 0) * 1000,
  };
  return { ok: true, identity };
}
