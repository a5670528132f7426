import { z } from 'zod';

/**
 * `server.auth` (docs/security.md, docs/configuration.md). Validated with the rest of the config; the files it
 * names are read once at start-up by createAuthenticator.
 */
export const authConfigSchema = z.object({
  /** none: every caller may do everything (the server then binds loopback by default). jwt / api-key: credentials. */
  mode: z.enum(['none', 'jwt', 'api-key']).default('none').describe('`none` (everyone may do everything), `jwt` or `api-key`: credentials on every `/v1/` endpoint, WebSocket upgrades and WHIP included ([security.md](security.md))'),
  jwt: z.object({
    /** HS256 shared secret (env EMOSTREAM_AUTH_JWT_SECRET); at least 32 characters. */
    secret: z.string().min(32, 'an HS256 secret needs at least 32 characters').optional().describe('HS256 shared secret, at least 32 characters; `emostream token` signs with it'),
    /** PEM public key (SPKI) of an identity provider: RS256 for RSA, ES256 for P-256, EdDSA for Ed25519. Verify only. */
    publicKeyFile: z.string().min(1).optional().describe('PEM public key of an identity provider (RSA: RS256, EC P-256: ES256, Ed25519: EdDSA); verify only'),
    /** JWKS file ({"keys": [...]}) of an identity provider; tokens pick the key by `kid`. Verify only. */
    jwksFile: z.string().min(1).optional().describe('JWKS file (`{"keys": [...]}`) of an identity provider, key chosen by `kid`; RS256 / ES256 / EdDSA; verify only'),
    /** Required `aud` (tokens minted by `emostream token` carry it). */
    audience: z.string().min(1).default('emostream').describe('required `aud`'),
    /** Required `iss`, when set. */
    issuer: z.string().min(1).optional().describe('required `iss`, when set'),
    /** Leeway for exp / nbf against clock skew. */
    clockToleranceS: z.number().int().min(0).max(300).default(5).describe('leeway for `exp` / `nbf` (0-300)'),
  }).strict().prefault({}),
  /** JSON file of API keys, stored as SHA-256 hashes with scopes and limits (docs/security.md). */
  apiKeysFile: z.string().min(1).optional().describe('JSON file of SHA-256-hashed API keys with scopes and per-key limits (format in [security.md](security.md)); needed by mode `api-key`'),
  /** Failed authentications per remote address per minute before it is refused with 429 for the rest of the minute. */
  maxFailuresPerMinute: z.number().int().min(1).max(100_000).default(20).describe('failed authentications per remote address per minute; beyond, 429 `EMO_ERR_RATE_LIMITED` until the minute ends'),
}).strict().superRefine((a, ctx) => {
  if (a.mode === 'jwt' && !a.jwt.secret && !a.jwt.publicKeyFile && !a.jwt.jwksFile) {
    ctx.addIssue({ code: 'custom', path: ['jwt'], message: 'auth mode jwt needs jwt.secret (EMOSTREAM_AUTH_JWT_SECRET), jwt.publicKeyFile or jwt.jwksFile' });
  }
  if (a.mode === 'api-key' && !a.apiKeysFile) {
    ctx.addIssue({ code: 'custom', path: ['apiKeysFile'], message: 'auth mode api-key needs apiKeysFile (EMOSTREAM_AUTH_API_KEYS_FILE)' });
  }
});

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** `server.limits`: per identity and per remote address, counted per event loop; 0 = no limit of that kind. */
export const limitsConfigSchema = z.object({
  maxSessionsPerIdentity: z.number().int().min(0).default(0).describe('concurrent sessions per identity (JWT `sub` or API key; a key\'s own `maxSessions` wins); 0 = no limit beyond server.maxSessions; 429 `EMO_ERR_TOO_MANY_SESSIONS`'),
  maxSessionsPerIp: z.number().int().min(0).default(0).describe('concurrent sessions per remote address (behind a proxy: the proxy\'s)'),
  maxSubscriptionsPerIdentity: z.number().int().min(0).default(0).describe('concurrent `/v1/subscribe` connections per identity'),
  maxSubscriptionsPerIp: z.number().int().min(0).default(0).describe('concurrent `/v1/subscribe` connections per remote address'),
}).strict();

export type LimitsConfig = z.infer<typeof limitsConfigSchema>;
