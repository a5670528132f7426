import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { WhipClient } from '../../../clients/node/whip-client.js';
import { startHarness, tone48k, type Harness } from './webrtc-harness.js';

/** Bounds a wait only so that a hang fails: generous, since DTLS and Opus in JS are slow on a busy machine. */
const HANG_MS = 20_000;

let h: Harness;
before(async () => {
  h = await startHarness({ peer: { iceTimeoutMs: 1500, statsIntervalMs: 200 } });
});
after(async () => {
  await h.close();
});

const post = (body: string, type = 'application/sdp') => fetch(h.url, { method: 'POST', headers: { 'content-type': type }, body });

test('WHIP POST -> 201 answer; Opus audio arrives as contiguous 48 kHz PCM on the session clock; results return on the DataChannel', async () => {
  const client = await WhipClient.connect({ url: h.url });
  try {
    assert.match(client.location, /\/v1\/whip\/s\d+$/);
    const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
    assert.ok(handle, 'session opened through the session API');
    await client.waitFor(() => client.messages.some((m) => m.type === 'welcome'), HANG_MS, 'welcome on the DataChannel');
    await client.streamPcm(tone48k(1.0), { speed: 4 });
    await client.waitFor(() => handle.samples >= 48000 - 960 * 3, HANG_MS, 'decoded PCM');
    const first = handle.pcm[0];
    assert.equal(first.sampleRate, 48000);
    assert.equal(first.channels, 1);
    for (let i = 1; i < handle.pcm.length; i++) {
      const prev = handle.pcm[i - 1];
      const expected = prev.ptsUs + (prev.samples.length * 1e6) / 48000;
      assert.ok(Math.abs(handle.pcm[i].ptsUs - expected) < 1, `chunk ${i} contiguous`);
    }
    // Opus is lossy but a clean tone survives: correlate decoded energy with the input's.
    const rms = Math.sqrt(handle.pcm.flatMap((c) => Array.from(c.samples)).reduce((a, x) => a + x * x, 0) / handle.samples);
    assert.ok(rms > 0.1 && rms < 0.3, `decoded RMS ${rms}`);
    handle.emitResult();
    await client.waitFor(() => client.messages.some((m) => m.type === 'emotion'), HANG_MS, 'emotion result');
    const res = client.messages.find((m) => m.type === 'emotion') as { capture?: { windowEndEpochMs: number; basis: string } };
    assert.ok(res.capture, 'result carries the capture time of its window end');
    // Same clock and unit as Date.now() (a minute of slack: this checks the unit, not the latency).
    assert.ok(Math.abs(res.capture.windowEndEpochMs - Date.now()) < 60_000);
    await client.end();
    assert.equal(handle.ended, 'end');
    await client.waitFor(() => h.whip.size === 0 || !h.whip.session(client.sessionId), HANG_MS, 'session removed');
  } finally {
    await client.close();
  }
});

test('lost packets are counted as missing audio and filled so the clock stays true', async () => {
  const client = await WhipClient.connect({ url: h.url });
  try {
    const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
    const audio = tone48k(1.0);
    let k = 0;
    for (let off = 0; off < audio.length; off += 960, k++) {
      client.sendFrame(audio.subarray(off, off + 960), k === 10 || k === 11 || k === 30);
      await new Promise((r) => setTimeout(r, 5));
    }
    await client.waitFor(() => handle.samples >= 48000 - 960 * 4, HANG_MS, 'decoded PCM');
    const peer = h.whip.session(client.sessionId)!;
    const st = peer.stats().audio!;
    assert.equal(st.lost, 3, 'three packets lost');
    assert.ok(Math.abs(st.missingAudioMs - 60) < 0.5, `missing audio ${st.missingAudioMs} ms`);
    // Filled: the PCM covers the whole second although 60 ms never arrived.
    const last = handle.pcm.at(-1)!;
    const spanUs = last.ptsUs + (last.samples.length * 1e6) / 48000 - handle.pcm[0].ptsUs;
    assert.ok(Math.abs(spanUs - handle.samples * (1e6 / 48000)) < 1);
    await client.waitFor(() => client.messages.some((m) => m.type === 'webrtc-stats'), HANG_MS, 'stats message');
  } finally {
    await client.close();
  }
});

test('jitter: packets reordered by the network come out in order, with nothing declared lost', async () => {
  const client = await WhipClient.connect({ url: h.url });
  try {
    const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
    const audio = tone48k(1.0);
    const packets = [];
    for (let off = 0; off < audio.length; off += 960) packets.push(client.encodeFrame(audio.subarray(off, off + 960)));
    // Swap neighbours and hold every fifth packet back by two places: up to 40 ms of reordering. The first packet
    // stays first: it anchors the stream (an earlier one arriving after it would be late, as on a real network).
    for (let i = 1; i + 1 < packets.length; i += 2) [packets[i], packets[i + 1]] = [packets[i + 1], packets[i]];
    for (let i = 4; i + 2 < packets.length; i += 5) packets.splice(i + 2, 0, packets.splice(i, 1)[0]);
    // Written in one burst: every packet arrives well before its 20 ms of media is due, whatever the machine's
    // load (a paced send, 4 ms apart, drifted by less the busier the machine was, so the estimate could fall).
    for (const p of packets) client.writeAudioPacket(p);
    await client.waitFor(() => handle.samples >= 48000, HANG_MS, 'decoded PCM');
    const st = h.whip.session(client.sessionId)!.stats().audio!;
    assert.equal(st.lost, 0);
    assert.equal(st.late, 0);
    assert.equal(st.delivered, packets.length);
    assert.ok(st.maxDepth >= 1, 'the buffer held packets to reorder them');
    assert.equal(st.missingAudioMs, 0);
    assert.equal(handle.samples, 48000);
    // Sent at once for 20 ms of media each: transit times drift by ~20 ms per packet, which the estimate reflects.
    assert.ok(st.interarrivalJitterMs > 5, `interarrival jitter ${st.interarrivalJitterMs} ms`);
  } finally {
    await client.close();
  }
});

test('bad input: malformed SDP 400, wrong content type 415, unsupported codecs only 422, unknown DELETE 404, PATCH 405', async () => {
  let r = await post('hello');
  assert.equal(r.status, 400);
  let body = await r.json() as { code: string; message: string };
  assert.equal(body.code, 'EMO_ERR_WHIP_BAD_SDP');
  r = await post('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio nine UDP/TLS/RTP/SAVPF 0\r\n');
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { message: string }).message, /media line/);
  r = await post('v=0', 'text/plain');
  assert.equal(r.status, 415);
  const pcmuOnly = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 0 8', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly',
    'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
    'a=setup:actpass', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', '',
  ].join('\r\n');
  r = await post(pcmuOnly);
  assert.equal(r.status, 422);
  body = await r.json() as { code: string; message: string };
  assert.equal(body.code, 'EMO_ERR_WHIP_NO_CODEC');
  assert.match(body.message, /PCMU/);
  r = await fetch(`${h.url}/nope`, { method: 'DELETE' });
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as { code: string }).code, 'EMO_ERR_WHIP_UNKNOWN_SESSION');
  r = await fetch(`${h.url}/nope`, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, body: 'a=candidate' });
  assert.equal(r.status, 405);
  r = await fetch(h.url, { method: 'OPTIONS' });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('accept-post'), 'application/sdp');
  assert.match(r.headers.get('access-control-expose-headers') ?? '', /location/);
});

test('at the session limit a new offer gets 503 EMO_ERR_WHIP_TOO_MANY_SESSIONS and nothing is left open', async () => {
  const small = await startHarness({ maxSessions: 1 });
  const first = await WhipClient.connect({ url: small.url });
  try {
    await assert.rejects(WhipClient.connect({ url: small.url }), /WHIP POST 503: .*EMO_ERR_WHIP_TOO_MANY_SESSIONS/);
    assert.equal(small.whip.size, 1);
    assert.equal(small.sessions.opened.length, 1, 'no session was opened for the refused offer');
    // The server's own session limit answers the same way.
    small.sessions.limit = 0;
    await first.end();
    await first.waitFor(() => small.whip.size === 0, HANG_MS, 'first session gone');
    await assert.rejects(WhipClient.connect({ url: small.url }), /WHIP POST 503/);
  } finally {
    await first.close();
    await small.close();
  }
});

test('a peer that never completes ICE is dropped after the ICE timeout and its session aborted', async () => {
  const { RTCPeerConnection, MediaStreamTrack } = await import('werift');
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  // Offer without ever applying the answer: the server's ICE checks go unanswered.
  const r = await post(pc.localDescription!.sdp);
  assert.equal(r.status, 201);
  const id = r.headers.get('x-emostream-session')!;
  const handle = h.sessions.opened.find((s) => s.id === id)!;
  const t0 = Date.now();
  while (h.whip.session(id) && Date.now() - t0 < HANG_MS) await new Promise((res) => setTimeout(res, 50));
  assert.equal(h.whip.session(id), undefined, 'session removed');
  assert.equal(handle.ended, 'abort');
  assert.ok((h.whip.endedByReason['ice-timeout'] ?? 0) >= 1);
  await pc.close();
});

test('WHIP DELETE ends a live session with its final result path (end, not abort)', async () => {
  const client = await WhipClient.connect({ url: h.url });
  try {
    await client.streamPcm(tone48k(0.2), { speed: 4 });
    const r = await client.delete();
    assert.equal(r.status, 200);
    const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
    await client.waitFor(() => handle.ended !== null, HANG_MS, 'session end');
    assert.equal(handle.ended, 'end');
    const again = await client.delete();
    assert.equal(again.status, 404);
  } finally {
    await client.close();
  }
});

test('a peer that vanishes (no end, no DELETE) ends its session as lost, not as a clean end', async (t) => {
  const lossy = await startHarness({ peer: { mediaTimeoutMs: 1500, disconnectGraceMs: 1000, statsIntervalMs: 200 } });
  const client = await WhipClient.connect({ url: lossy.url });
  try {
    await client.streamPcm(tone48k(0.3), { speed: 2 });
    const handle = lossy.sessions.opened.find((s) => s.id === client.sessionId)!;
    await client.close();
    const t0 = Date.now();
    while (lossy.whip.session(client.sessionId) && Date.now() - t0 < HANG_MS) await new Promise((r) => setTimeout(r, 50));
    assert.equal(lossy.whip.session(client.sessionId), undefined, 'session removed');
    const reasons = Object.keys(lossy.whip.endedByReason);
    assert.ok(reasons.some((r) => r === 'ice-failed' || r === 'media-timeout'), `ended by ${reasons.join(',')}`);
    t.diagnostic(`vanished peer ended by ${reasons.join(',')} after ${Date.now() - t0} ms`);
    assert.equal(handle.ended, 'abort');
  } finally {
    await lossy.close();
  }
});
