import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from '../../helpers/until.js';

/**
 * `npm start` as a newcomer runs it: the server logs JSON when stdout is not a terminal (with the URL to open), and
 * SIGTERM sent to npm reaches the node server (the script execs node instead of leaving it behind a shell).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('npm start: JSON logs with the URL when not a terminal; SIGTERM to npm stops the server', { timeout: 120_000 }, async () => {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    // Port 0: the listening line says which port. No video analyzer: it only slows the start.
    env: { ...process.env, EMOSTREAM_PORT: '0', EMOSTREAM_HOST: '127.0.0.1', EMOSTREAM_VIDEO: 'false', EMOSTREAM_LOG_FORMAT: 'auto' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(() => /"msg":"emostream listening/.test(stdout) || child.exitCode !== null, 'the listening line', 90_000);
    const lines = stdout.trim().split('\n');
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
    const listening = lines.map((l) => JSON.parse(l) as { msg: string; url?: string }).find((l) => l.msg.startsWith('emostream listening'))!;
    assert.match(listening.url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const health = await fetch(`${listening.url}healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `npm exit code (stderr: ${stderr})`);
    assert.match(stdout, /"msg":"emostream stopped"/, 'the server itself got the signal and shut down cleanly');
    await assert.rejects(fetch(`${listening.url}healthz`), 'nothing listens any more');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
