import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { encodeVideoFixture } from '../../../clients/node/video-fixture.js';
import { WhipClient } from '../../../clients/node/whip-client.js';
import { startHarness, tone48k, type Harness } from './webrtc-harness.js';

// ffmpeg's synthetic test pattern, encoded as a browser would send it, through the WHIP ingest: depacketised by
// werift, decoded by ffmpeg, scaled to the analysis canvas and decimated to the analysis frame rate.
let h: Harness;
before(async () => {
  h = await startHarness({ peer: { analysisFps: 5, videoWidth: 320, videoHeight: 240 } });
});
after(async () => {
  await h.close();
});

for (const codec of ['vp8', 'h264'] as const) {
  test(`${codec.toUpperCase()} video arrives as I420 frames at the analysis rate on the session clock`, async () => {
    const video = await encodeVideoFixture(codec, null, 2, 15);
    assert.ok(video.frames.length >= 25 && video.frames[0].keyframe, `${video.frames.length} coded frames, first a keyframe`);
    const client = await WhipClient.connect({ url: h.url, video: codec });
    try {
      const handle = h.sessions.opened.find((s) => s.id === client.sessionId)!;
      await Promise.all([client.streamVideo(video, 2), client.streamPcm(tone48k(2))]);
      await client.waitFor(() => handle.video.length >= 8, 4000, 'decoded frames');
      const f = handle.video[0];
      assert.equal(f.format, 'i420');
      assert.equal(f.width, 320);
      assert.equal(f.height, 240);
      assert.equal(f.payload.byteLength, 320 * 240 * 1.5);
      // Not a blank picture: testsrc2 is colourful, so luma varies.
      let min = 255;
      let max = 0;
      for (let i = 0; i < 320 * 240; i += 7) { min = Math.min(min, f.payload[i]); max = Math.max(max, f.payload[i]); }
      assert.ok(max - min > 100, `luma range ${min}..${max}`);
      // 2 s at 5 fps analysis rate: about 10 frames (the count checks the rate), never backwards. The decimator keeps
      // a steady 200 ms grid and re-aligns to the frames that exist, so one gap may shrink to half an interval (with
      // 15 fps input: 133 ms) when a busy machine makes ffmpeg drop a picture; it is never shorter than that.
      const pts = handle.video.map((v) => v.ptsUs);
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i] - pts[i - 1] >= 100_000, `frame spacing ${pts[i] - pts[i - 1]} us`);
      assert.ok(handle.video.length <= 12, `${handle.video.length} frames delivered for 2 s at 5 fps`);
      // Audio and video share the session clock: their first timestamps are within a few hundred ms.
      assert.ok(Math.abs(pts[0] - handle.pcm[0].ptsUs) < 500_000);
      const st = h.whip.session(client.sessionId)!.stats().video!;
      assert.equal(st.codec, codec);
      assert.ok(st.framesDecimated > 0);
    } finally {
      await client.close();
    }
  });
}
