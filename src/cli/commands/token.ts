import type { Command } from 'commander';
import { newApiKey } from '../../auth/api-keys.js';
import { mintToken, parseScopes, parseTtlS } from '../../auth/mint.js';
import { loadConfig } from '../../server/config.js';

interface TokenOpts {
  scope: string[];
  session?: string;
  ttl: string;
  sub: string;
  config?: string;
  newApiKey?: string;
}

/**
 * `emostream token`: a JWT signed with the configured HS256 secret (server.auth.jwt.secret, env
 * EMOSTREAM_AUTH_JWT_SECRET), printed as the last line of stdout; or, with --new-api-key ID, a new API key and the
 * entry to add to the keys file.
 */
export function register(program: Command): void {
  program.command('token')
    .description('Print a token for the server (signed with the configured HS256 secret), or a new API key')
    .option('--scope <scopes...>', 'publish, subscribe, admin, history:read, history:delete (repeat or comma-separate)', [])
    .option('--session <id>', 'pin the token to one session (a publish token names the session it creates)')
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 12h, 7d', '15m')
    .option('--sub <name>', 'subject: the identity sessions belong to', 'cli')
    .option('-c, --config <file>', 'JSON config file (env EMOSTREAM_CONFIG) holding server.auth')
    .option('--new-api-key <id>', 'instead: generate an API key with this id; prints the keys-file entry on stderr and the key last on stdout')
    .action(async (o: TokenOpts) => {
      const scopes = parseScopes(o.scope);
      if (o.newApiKey) {
        const { key, entry } = newApiKey(o.newApiKey, scopes);
        if (o.session) entry.session = o.session;
        process.stderr.write(`add to the API keys file (server.auth.apiKeysFile), "keys" array:\n${JSON.stringify(entry)}\n`);
        process.stdout.write(`${key}\n`);
        return;
      }
      const jwt = loadConfig({ file: o.config }).server.auth.jwt;
      if (!jwt.secret) throw new Error('no HS256 secret configured: set EMOSTREAM_AUTH_JWT_SECRET or server.auth.jwt.secret (tokens from an identity provider are minted there)');
      const ttlS = parseTtlS(o.ttl);
      const token = await mintToken({ secret: jwt.secret, sub: o.sub, scopes, session: o.session, ttlS, audience: jwt.audience, issuer: jwt.issuer });
      process.stderr.write(`token for ${o.sub}: ${scopes.join(' ')}${o.session ? `, session ${o.session}` : ''}, expires ${new Date(Date.now() + ttlS * 1000).toISOString()}\n`);
      process.stdout.write(`${token}\n`);
    });
}
