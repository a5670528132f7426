import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TRANSPORTS } from '../../helpers/server.js';
import { DEFAULT_MAX_OFFER_BYTES } from '../../../src/webrtc/sdp-offer.js';

/** An offer over 64 KiB is cut off by the transport; the answer is still WHIP's own catalogue error, on both transports. */
for (const transport of TRANSPORTS) {
  test(`WHIP over ${transport}: a body over 64 KiB gets 413 EMO_ERR_WHIP_TOO_LARGE, not a generic error`, async () => {
    const ts = await startTestServer(transport, { plugins: ['../webrtc/index.ts'] });
    const http = ts.url.replace('ws://', 'http://');
    try {
      for (const bytes of [DEFAULT_MAX_OFFER_BYTES + 1, 100 * 1024]) {
        const body = `v=0\r\n${'a=x\r\n'.repeat(Math.ceil(bytes / 5))}`.slice(0, bytes);
        const r = await fetch(`${http}/v1/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body }).catch((err: unknown) => err as Error);
        assert.ok(!(r instanceof Error), `request of ${bytes} bytes failed: ${String(r)}`);
        assert.equal(r.status, 413);
        assert.equal(r.headers.get('content-type'), 'application/json');
        const json = await r.json() as { type: string; code: string; message: string };
        assert.equal(json.type, 'error');
        assert.equal(json.code, 'EMO_ERR_WHIP_TOO_LARGE');
        assert.match(json.message, /65536 bytes/);
      }
      // A generic route keeps the generic answer, and the server goes on.
      assert.equal((await fetch(`${http}/healthz`)).status, 200);
    } finally {
      await ts.close();
    }
  });
}
