import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WhipClient } from '../../../clients/node/whip-client.js';
import { SECRET, serverWithSteady, type SteadySession, token } from '../../helpers/auth.js';
import { tone48k } from '../webrtc/webrtc-harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('WHIP access control (uws)', () => {
  let steady: SteadySession;
  let whip: string;
  let close: () => Promise<void>;
  before(async () => {
    const s = await serverWithSteady('uws', { server: { auth: { mode: 'jwt', jwt: { secret: SECRET } } }, plugins: ['../webrtc/index.ts'] }, token('carol', ['publish']));
    ({ steady, close } = s);
    whip = `${s.ts.url.replace('ws://', 'http://')}/v1/whip`;
  });
  after(() => close());

  test('POST needs a publish credential; the session is named by a pinned token', async () => {
    const offer = { method: 'POST', body: 'v=0\r\n' };
    let r = await fetch(whip, { ...offer, headers: { 'content-type': 'application/sdp' } });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { code: string }).code, 'EMO_ERR_UNAUTHORIZED');
    r = await fetch(whip, { ...offer, headers: { 'content-type': 'application/sdp', ...bearer(await token('alice', ['subscribe'])) } });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { code: string }).code, 'EMO_ERR_FORBIDDEN');
    const client = await WhipClient.connect({ url: whip, headers: bearer(await token('alice', ['publish'], { session: 'whip-room-1' })) });
    assert.equal(client.sessionId, 'whip-room-1');
    assert.ok(client.location.endsWith('/v1/whip/whip-room-1'));
    await client.delete();
    await client.close();
    await steady.more();
  });

  test("DELETE /v1/whip/<id> with another identity's token: 403 and the session goes on; the owner ends it", async () => {
    const alice = await WhipClient.connect({ url: whip, headers: bearer(await token('alice', ['publish'])) });
    const streaming = alice.streamPcm(tone48k(2.5));
    const r = await fetch(alice.location, { method: 'DELETE', headers: bearer(await token('mallory', ['publish'])) });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { code: string }).code, 'EMO_ERR_FORBIDDEN');
    assert.equal((await fetch(alice.location, { method: 'DELETE' })).status, 401);
    // An id that does not exist answers like another identity's session: ids cannot be probed.
    assert.equal((await fetch(`${whip}/no-such-session`, { method: 'DELETE', headers: bearer(await token('mallory', ['publish'])) })).status, 403);
    await streaming;
    await alice.waitFor(() => alice.messages.filter((m) => m.type === 'emotion').length >= 2, 10_000, 'results after the refused DELETE');
    const own = await alice.delete();
    assert.equal(own.status, 200);
    await alice.waitFor(() => alice.messages.some((m) => m.type === 'end'), 10_000, 'end after the owner DELETE');
    await alice.close();
    await steady.more();
  });
});
