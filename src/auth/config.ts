import { z } from 'zod';

/**
 * `server.auth` (docs/security.md, docs/configuration.md). Validated with the rest of the config; the files it
 * names are read once at start-up by createAuthenticator.
 */
export const authConfigSchema = z.object({
  /** none: every caller may do everything (the server then binds loopback by default). jwt / api-key: credentials. */
  mode: z.enum(['none', 'jwt', 'api-key']).default('none'),
  jwt: z.object({
    /** HS256 shared secret (env EMOSTREAM_AUTH_JWT_SECRET); at least 32 characters. */
    secret: z.string().min(32, 'an HS256 secret needs at least 32 characters').optional(),
    /** PEM public key (SPKI) of an identity provider: RS256 for RSA, ES256 for P-256, EdDSA for Ed25519. Verify only. */
    publicKeyFile: z.string().min(1).optional(),
    /** JWKS file ({"keys": [...]}) of an identity provider; tokens pick the key by `kid`. Verify only. */
    jwksFile: z.string().min(1).optional(),
    /** Required `aud` (tokens minted by `emostream token` carry it). */
    audience: z.string().min(1).default('emostream'),
    /** Required `iss`, when set. */
    issuer: z.string().min(1).optional(),
    /** Leeway for exp / nbf against clock skew. */
    clockToleranceS: z.number().int().min(0).max(300).default(5),
  }).strict().prefault({}),
  /** JSON file of API keys, stored as SHA-256 hashes with scopes and limits (docs/security.md). */
  apiKeysFile: z.string().min(1).optional(),
  /** Failed authentications per remote address per minute before it is refused with 429 for the rest of the minute. */
  maxFailuresPerMinute: z.number().int().min(1).max(100_000).default(20),
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
  maxSessionsPerIdentity: z.number().int().min(0).default(0),
  maxSessionsPerIp: z.number().int().min(0).default(0),
  maxSubscriptionsPerIdentity: z.number().int().min(0).default(0),
  maxSubscriptionsPerIp: z.number().int().min(0).default(0),
}).strict();

export type LimitsConfig = z.infer<typeof limitsConfigSchema>;
