import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { SECRET } from '../../helpers/auth.js';

const execFileP = promisify(execFile);
type Out = { code: number; stdout: string; stderr: string };

/** The CLI as a user runs it, with `env` added to this process's environment (EMOSTREAM_* cleared first). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Out> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMOSTREAM_')));
  try {
    const { stdout, stderr } = await execFileP(process.execPath, ['bin/emostream.mjs', ...args], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let ts: TestServer;
let dir: string;
before(async () => {
  ts = await startTestServer('uws', { server: { auth: { mode: 'jwt', jwt: { secret: SECRET } } } });
  dir = mkdtempSync(join(tmpdir(), 'emo-auth-cli-'));
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=1.6', join(dir, 'tone.wav')]);
});
after(async () => {
  await ts.close();
  rmSync(dir, { recursive: true, force: true });
});

test('emostream token prints a token (last line) that emostream stream uses from EMOSTREAM_TOKEN; without it: 401', async () => {
  const minted = await cli(['token', '--scope', 'publish', '--sub', 'cli-user', '--ttl', '5m'], { EMOSTREAM_AUTH_JWT_SECRET: SECRET });
  assert.equal(minted.code, 0, minted.stderr);
  const tok = minted.stdout.trim().split('\n').at(-1)!;
  const claims = decodeJwt(tok);
  assert.deepEqual([claims.sub, claims.scope, claims.aud], ['cli-user', 'publish', 'emostream']);
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);

  const ok = await cli(['stream', join(dir, 'tone.wav'), '--url', ts.url, '--fast', '--json'], { EMOSTREAM_TOKEN: tok });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.stdout.trim().split('\n').length >= 3, ok.stdout);

  const flag = await cli(['stream', join(dir, 'tone.wav'), '--url', ts.url, '--fast', '--json', '--token', tok]);
  assert.equal(flag.code, 0, flag.stderr);

  const none = await cli(['stream', join(dir, 'tone.wav'), '--url', ts.url, '--fast']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /401.*EMO_ERR_UNAUTHORIZED/);
});

test('emostream subscribe with a token of another session is refused with the reason; token without a secret explains', async () => {
  const minted = await cli(['token', '--scope', 'subscribe', '--session', 'visit-1'], { EMOSTREAM_AUTH_JWT_SECRET: SECRET });
  const tok = minted.stdout.trim().split('\n').at(-1)!;
  const sub = await cli(['subscribe', 'visit-2', '--url', ts.url, '--token', tok]);
  assert.notEqual(sub.code, 0);
  assert.match(sub.stderr, /403.*EMO_ERR_FORBIDDEN.*pinned to another session/);
  const noSecret = await cli(['token', '--scope', 'publish']);
  assert.notEqual(noSecret.code, 0);
  assert.match(noSecret.stderr, /EMOSTREAM_AUTH_JWT_SECRET/);
});
