import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { encodeAudioFrame } from '../../../src/protocol/v1/frames.js';
import { startTestServer, TRANSPORTS, type TestServer } from '../../helpers/server.js';
import { refused, SECRET, token, upgrade } from '../../helpers/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'emo-auth-tls-'));
let haveOpenssl = true;
try {
  // A self-signed certificate for 127.0.0.1, made now: nothing secret is kept in the repository.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
} catch {
  haveOpenssl = false;
}
after(() => rmSync(dir, { recursive: true, force: true }));

function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => get(url, { ca }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject));
}

for (const transport of TRANSPORTS) {
  describe(`TLS over ${transport}`, { skip: haveOpenssl ? false : 'openssl not found: cannot make a test certificate' }, () => {
    let ts: TestServer;
    let ca: Buffer;
    let wss: string;
    before(async () => {
      ca = readFileSync(join(dir, 'cert.pem'));
      ts = await startTestServer(transport, { server: { tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') }, auth: { mode: 'jwt', jwt: { secret: SECRET } } } });
      wss = ts.url.replace('ws://', 'wss://');
    });
    after(async () => { await ts.close(); });

    test('wss:// streams with a token and gets results; https:// answers; the refusals are the same as in clear', async () => {
      assert.equal(await httpsStatus(`${wss.replace('wss://', 'https://')}/healthz`, ca), 200);
      await refused(`${wss}/v1/stream`, { ca }, 401, 'EMO_ERR_UNAUTHORIZED');
      const a = await upgrade(`${wss}/v1/stream`, { ca, token: await token('alice', ['publish']) });
      assert.equal(a.status, 101);
      const ws = (a as { ws: WebSocket }).ws;
      const messages: { type: string }[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as { type: string }));
      ws.send(JSON.stringify({ type: 'hello', protocol: '1.0' }));
      const pcm = Int16Array.from({ length: 320 }, (_, i) => Math.round(6000 * Math.sin(i / 7)));
      for (let k = 0; k < 60; k++) {
        ws.send(encodeAudioFrame({ seq: k, ptsUs: k * 20_000 }, pcm, 16000, 1));
        await new Promise((r) => setTimeout(r, 5));
      }
      ws.send(JSON.stringify({ type: 'end' }));
      const code = await new Promise<number>((r) => ws.on('close', (c) => r(c)));
      assert.equal(code, 1000);
      assert.equal(messages[0].type, 'welcome');
      assert.ok(messages.filter((m) => m.type === 'emotion').length >= 3, `${messages.length} messages over TLS`);
    });
  });
}
