import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { codeOf } from '../../helpers/protocol-error.js';
import { HopScheduler } from '../../../src/streaming/hop-scheduler.js';
import { PtsGuard } from '../../../src/streaming/pts-guard.js';
import { MediaRateLimiter } from '../../../src/server/rate-limit.js';
import { MediaAdmission } from '../../../src/server/media-admission.js';


test('HopScheduler: a clock leap of 2^53 µs returns at most maxHopsPerAdvance hops, counted not looped', () => {
  const skipped: number[] = [];
  const s = new HopScheduler(3_000_000, 500_000, 3, (n) => skipped.push(n));
  s.start(0);
  const t0 = performance.now();
  const leapUs = Number.MAX_SAFE_INTEGER;
  const hops = s.advance(leapUs);
  assert.ok(performance.now() - t0 < 1000, 'no loop over the jump');
  assert.equal(hops.length, 3);
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0] + 3, Math.floor(leapUs / 500_000));
  assert.deepEqual(hops.map((h) => h.index), [skipped[0], skipped[0] + 1, skipped[0] + 2]);
  assert.ok(hops.every((h) => h.endUs <= leapUs && h.endUs - h.startUs === 3_000_000 && Number.isSafeInteger(h.endUs)));
  assert.equal(s.stats().skipped, skipped[0]);
  // Normal pace is untouched: one hop per hop of clock, nothing skipped.
  const n = new HopScheduler(3_000_000, 500_000, 3, () => assert.fail('nothing to skip'));
  n.start(1_000_000);
  for (let k = 1; k <= 20; k++) assert.equal(n.advance(1_000_000 + k * 500_000).length, 1);
  // The final window ends on a whole microsecond even when audio's sample clock does not (62.5 µs per sample).
  assert.equal(n.flush(11_000_062.5).endUs, 11_000_063);
});

test('PtsGuard: the first frame sets the clock; more than maxJump ahead is EMO_ERR_TIMESTAMP_JUMP; audio counts its duration', () => {
  const g = new PtsGuard(10_000_000);
  assert.equal(g.offer('au', 0, 0).advanceUs, 0);
  g.accept('au', 0, 0);
  assert.equal(codeOf(() => g.offer('au', 9e18, 0)), 'EMO_ERR_OUT_OF_RANGE', 'beyond 2^53 is not an exact integer');
  assert.equal(codeOf(() => g.offer('au', 1e12, 0)), 'EMO_ERR_TIMESTAMP_JUMP');
  assert.equal(codeOf(() => g.offer('audio', 10_000_001, 20_000)), 'EMO_ERR_TIMESTAMP_JUMP', 'audio after AU is held to the same clock');
  assert.equal(codeOf(() => g.offer('video', Number.NaN, 0)), 'EMO_ERR_OUT_OF_RANGE');
  assert.deepEqual(g.offer('video', 10_000_000, 0), { ptsUs: 10_000_000, advanceUs: 10_000_000 }, 'exactly maxJump ahead is allowed');
  assert.equal(g.offer('au', 33_333.4, 0).ptsUs, 33_333, 'fractional µs (session API) are rounded');
  // Offered but never accepted (rate-limited, say): the jump limit follows the client's own timeline...
  assert.equal(g.offer('au', 19_000_000, 0).advanceUs, 19_000_000, '...while the cost is counted from what was accepted');
  assert.equal(g.sessionClockUs, 0);
  // Audio costs its duration: the windower counts samples, so a chunk stamped after a gap adds only its length.
  g.accept('audio', 19_000_000, 20_000);
  assert.equal(g.sessionClockUs, 19_020_000, 'audio starts at its first pts');
  assert.equal(g.offer('audio', 25_000_000, 20_000).advanceUs, 20_000);
  // Audio chunks all stamped 0 still advance the clock by their duration (the windower counts samples).
  const a = new PtsGuard(10_000_000);
  for (let k = 0; k < 5; k++) {
    assert.equal(a.offer('audio', 0, 20_000).advanceUs, 20_000);
    a.accept('audio', 0, 20_000);
  }
  assert.equal(a.sessionClockUs, 100_000);
  assert.equal(a.offer('au', 50_000, 0).advanceUs, 0, 'a stream behind the clock adds nothing');
});

test('MediaRateLimiter: a full bucket lets a burst through, then media at most factor x wall time; reports once per interval', () => {
  let now = 0;
  const r = new MediaRateLimiter(4, 2_000_000, () => now);
  let accepted = 0;
  // 10x real time for 10 s of wall time: 20 ms of audio every 2 ms.
  for (let k = 0; k < 5000; k++) {
    now = k * 2;
    if (r.allows(20_000)) {
      r.spend(20_000);
      accepted++;
    }
  }
  const acceptedUs = accepted * 20_000;
  assert.ok(acceptedUs <= 2_000_000 + 4 * 10_000_000 + 20_000, `accepted ${acceptedUs} µs of media in 10 s`);
  assert.ok(acceptedUs >= 4 * 10_000_000, `at least 4x real time got through (${acceptedUs} µs)`);
  assert.equal(r.refused, 5000 - accepted);
  assert.equal(r.allows(0), true, 'a frame that adds no media time always passes');
  now = 100_000;
  assert.equal(r.shouldReport(), true);
  now += 999;
  assert.equal(r.shouldReport(), false);
  now += 1;
  assert.equal(r.shouldReport(), true);
  // One long frame may overdraw the bucket; the next waits until it has refilled.
  const big = new MediaRateLimiter(4, 1_000_000, () => now);
  assert.equal(big.allows(60_000_000), true);
  big.spend(60_000_000);
  now += 14_000;
  assert.equal(big.allows(20_000), false);
  now += 1_100;
  assert.equal(big.allows(20_000), true);
});

test('MediaAdmission: refused silently between reports, EMO_ERR_RATE_LIMITED at most once per second; idle clock moves only on commit', () => {
  let now = 0;
  const adm = new MediaAdmission({ maxPtsJumpMs: 10_000, maxRealtimeFactor: 4, realtimeBurstMs: 100 }, () => now);
  let pts = 0;
  let lastAcceptedAt = -1;
  const codes: (string | null)[] = [];
  for (let k = 0; k < 200; k++) {
    try {
      const p = adm.admit('audio', pts, 20_000);
      if (p === null) codes.push('silent');
      else {
        adm.commit('audio', p, 20_000);
        lastAcceptedAt = now;
        codes.push(null);
      }
    } catch (err) {
      codes.push((err as ProtocolError).code);
    }
    pts += 20_000;
    now += 1;
  }
  assert.equal(codes.filter((c) => c === 'EMO_ERR_RATE_LIMITED').length, 1, 'one report within the same second');
  assert.ok(codes.filter((c) => c === 'silent').length > 150);
  assert.equal(adm.lastMediaAtMs, lastAcceptedAt, 'only accepted frames move the idle clock');
  assert.ok(lastAcceptedAt < 199, 'the last frames were refused');
  assert.equal(adm.rateLimitedFrames, codes.filter((c) => c !== null).length);
});
