import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEvaluator, sessionPerclos, type AlertInput } from '../../../src/alerts/evaluator.js';
import { parseAlertRules } from '../../../src/alerts/rules.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';
import { loadConfig } from '../../../src/server/config.js';

const HOP_US = 500_000;
const WINDOW_US = 3_000_000;

/** A result at hop `hop` (500 ms hops, 3 s windows) with the fields the rules read. */
function result(hop: number, fields: Partial<AlertInput> = {}): AlertInput {
  const end = WINDOW_US + hop * HOP_US;
  return { sessionId: 's1', hop, windowStartUs: end - WINDOW_US, windowEndUs: end, smoothed: null, aus: null, ...fields };
}
const smoothed = (label: string, p: number) => ({ probs: EMOTIONS.map((e) => (e === label ? p : (1 - p) / 7)), label });
const aus = { mean: new Array(35).fill(0.1) };

test('alert rules: defaults filled in; every bad rule named with its position, name and field', () => {
  const rules = parseAlertRules([{ name: 'anger', kind: 'label', label: 'angry', min: 0.6, forMs: 5000 }, { name: 'face', kind: 'no-face' }]);
  assert.deepEqual(rules[1], { name: 'face', kind: 'no-face', forMs: 0 });
  const bad = (raw: unknown[]) => assert.throws(() => parseAlertRules(raw), (e: Error) => { bad.last = e.message; return true; });
  bad.last = '';
  bad([{ name: 'x', kind: 'label', label: 'furious', min: 0.5 }]);
  assert.match(bad.last, /alert rule 0 "x": label: /);
  bad([{ name: 'ok', kind: 'no-voice' }, { name: 'drowsy', kind: 'perclos', min: 1.5 }]);
  assert.match(bad.last, /alert rule 1 "drowsy": min: min must be <= 1/);
  bad([{ name: 'k', kind: 'anger' }]);
  assert.match(bad.last, /alert rule 0 "k": kind must be one of label, perclos, no-face, no-voice, got "anger"/);
  bad([{ kind: 'no-face' }]);
  assert.match(bad.last, /alert rule 0 \(no valid name\): name: /);
  bad([{ name: 'a', kind: 'no-face' }, { name: 'a', kind: 'no-voice' }]);
  assert.match(bad.last, /alert rule 1 "a": the name is used by an earlier rule/);
  bad([{ name: 'a', kind: 'no-face', forMs: 3000, minutes: 2 }]);
  assert.match(bad.last, /alert rule 0 "a": .*minutes/);
  bad([{ name: 'a', kind: 'no-face', forMs: -1 }]);
  assert.match(bad.last, /alert rule 0 "a": forMs: /);
});

test('alert rules: from the config file or EMOSTREAM_ALERT_RULES, refused at start with the rule named', () => {
  const env = { EMOSTREAM_ALERT_RULES: JSON.stringify([{ name: 'drowsy', kind: 'perclos', min: 0.15, forMs: 2000 }]) };
  assert.deepEqual(loadConfig({ env }).alerts.rules, [{ name: 'drowsy', kind: 'perclos', min: 0.15, forMs: 2000 }]);
  assert.throws(() => loadConfig({ env: { EMOSTREAM_ALERT_RULES: '[{"name": "x"' } }), /EMOSTREAM_ALERT_RULES is not valid JSON/);
  assert.throws(() => loadConfig({ env: {}, overrides: { alerts: { rules: [{ name: 'silence', kind: 'no-voice', forMs: '60s' }] } } }),
    /invalid configuration: alerts\.rules: alert rule 0 "silence": forMs: /);
});

test('label rule: fires once when the smoothed probability held for forMs, re-arms when it drops', () => {
  const ev = new AlertEvaluator(parseAlertRules([{ name: 'anger', kind: 'label', label: 'angry', min: 0.6, forMs: 2000 }]));
  const fired: number[] = [];
  const probs = [0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.5, 0.7, 0.7, 0.7, 0.7, 0.7];
  probs.forEach((p, hop) => {
    const alerts = ev.evaluate(result(hop, { smoothed: smoothed('angry', p) }));
    for (const a of alerts) {
      fired.push(a.hop);
      assert.deepEqual({ ...a, message: '' }, { type: 'alert', sessionId: 's1', rule: 'anger', hop: a.hop, atUs: WINDOW_US + a.hop * HOP_US, kind: 'label', value: 0.7, message: '' });
      assert.match(a.message, /^smoothed angry at 0\.7 for 2 s \(rule anger: smoothed angry >= 0\.6 for 2 s\)$/);
    }
  });
  // Held from hop 0's window end; 2 s later is hop 4. Sustained: nothing more. Dropped at hop 8, held again from 9: hop 13.
  assert.deepEqual(fired, [4, 13]);
});

test('label rule: a result without a fused posterior is unknown: it breaks the stretch but does not re-arm', () => {
  const ev = new AlertEvaluator(parseAlertRules([{ name: 'anger', kind: 'label', label: 'angry', min: 0.6, forMs: 1000 }]));
  const seq = [0.8, 0.8, 0.8, null, 0.8, 0.8, 0.8, null, 0.8, 0.3, 0.8, 0.8, 0.8];
  const fired = seq.flatMap((p, hop) => ev.evaluate(result(hop, { smoothed: p === null ? null : smoothed('angry', p) })).map((a) => a.hop));
  // Fires at hop 2; the gap at 3 keeps it fired through 4-8; the 0.3 at 9 re-arms; held again from 10, fires at 12.
  assert.deepEqual(fired, [2, 12]);
});

test('perclos rule: the largest face reporting PERCLOS (state.perclos or perclos); absent everywhere = never fires', () => {
  assert.equal(sessionPerclos(undefined), null);
  assert.equal(sessionPerclos({ count: 1, trackIds: [3] }), null, 'the 1.0 faces summary has no driver state');
  assert.equal(sessionPerclos([{ trackId: 1 }]), null);
  const faces = (big: number, small: number) => [
    { trackId: 1, box: { x: 0, y: 0, width: 20, height: 20 }, state: { perclos: small } },
    { trackId: 2, box: { x: 0, y: 0, width: 80, height: 90 }, perclos: big },
  ];
  assert.equal(sessionPerclos(faces(0.2, 0.9)), 0.2, 'a passenger (small face) with closed eyes does not decide');
  const ev = new AlertEvaluator(parseAlertRules([{ name: 'drowsy', kind: 'perclos', min: 0.15 }]));
  assert.deepEqual(ev.evaluate(result(0, { aus, faces: [{ trackId: 1 }] })), [], 'no perclos field: unknown');
  assert.deepEqual(ev.evaluate(result(1, { aus })), []);
  assert.deepEqual(ev.evaluate(result(2, { aus, faces: faces(0.1, 0.9) })), []);
  const [a] = ev.evaluate(result(3, { aus, faces: faces(0.18, 0) }));
  assert.equal(a.kind, 'perclos');
  assert.equal(a.value, 0.18);
  assert.equal(a.hop, 3);
  assert.deepEqual(ev.evaluate(result(4, { aus, faces: faces(0.3, 0) })), [], 'sustained: fires once');
});

test('no-face rule: counted from the start of the first window without a face, once a face was seen (or faces: [])', () => {
  const rules = parseAlertRules([{ name: 'gone', kind: 'no-face', forMs: 4000 }]);
  const audioOnly = new AlertEvaluator(rules);
  for (let hop = 0; hop < 40; hop++) assert.deepEqual(audioOnly.evaluate(result(hop)), [], 'a session that never showed a face: unknown');
  const ev = new AlertEvaluator(rules);
  const fired = [];
  for (let hop = 0; hop < 30; hop++) {
    const face = hop < 5 || hop >= 20;
    fired.push(...ev.evaluate(result(hop, face ? { aus } : {})));
  }
  // Hop 5's window [2.5 s, 5.5 s) is the first without a face: absent since 2.5 s, 4 s later is 6.5 s = hop 7's end.
  assert.deepEqual(fired.map((a) => [a.hop, a.value]), [[7, 4]]);
  assert.match(fired[0].message, /^no face for 4 s \(rule gone: no face for 4 s\)$/);
  // Video analysed and nobody there from the start (faces: []) is known absence.
  const video = new AlertEvaluator(rules);
  const v = [0, 1, 2].flatMap((hop) => video.evaluate(result(hop, { faces: [] })));
  assert.deepEqual(v.map((a) => a.hop), [2], 'absent since 0 s: 4 s at hop 2 (window end 4 s)');
});

test('no-voice rule: reads voice.active when results carry it; absent = unknown', () => {
  const ev = new AlertEvaluator(parseAlertRules([{ name: 'quiet', kind: 'no-voice', forMs: 5000 }]));
  assert.deepEqual([0, 1, 2, 3, 4, 5].flatMap((hop) => ev.evaluate(result(hop))), [], 'no voice field: never fires');
  const voice = (active: boolean) => ({ voice: { active, speechRatio: active ? 0.8 : 0 } });
  const fired = [];
  for (let hop = 6; hop < 30; hop++) fired.push(...ev.evaluate(result(hop, voice(hop < 10 || hop === 20))));
  // Inactive from hop 10 (window start 5 s): 5 s later is hop 14's end (10 s). Voice at 20 re-arms; from 21 (start
  // 10.5 s) to 15.5 s is hop 25.
  assert.deepEqual(fired.map((a) => [a.hop, a.kind, a.value]), [[14, 'no-voice', 5], [25, 'no-voice', 5]]);
});

test('several rules on one result fire in the configured order; each keeps its own state', () => {
  const ev = new AlertEvaluator(parseAlertRules([
    { name: 'r1', kind: 'label', label: 'sad', min: 0.5 },
    { name: 'r2', kind: 'no-voice' },
    { name: 'r3', kind: 'label', label: 'angry', min: 0.5 },
  ]));
  const a = ev.evaluate(result(0, { smoothed: smoothed('sad', 0.9), voice: { active: false, speechRatio: 0 } }));
  assert.deepEqual(a.map((x) => x.rule), ['r1', 'r2']);
  const b = ev.evaluate(result(1, { smoothed: smoothed('angry', 0.9), voice: { active: false, speechRatio: 0 } }));
  assert.deepEqual(b.map((x) => x.rule), ['r3']);
});

test('results as the server sends them: PERCLOS from faceTracks[].state, no face from faces {count: 0} or faceTracks []', () => {
  const drowsy = new AlertEvaluator(parseAlertRules([{ name: 'drowsy', kind: 'perclos', min: 0.15 }]));
  const tracks = (perclos: number) => [{ trackId: 4, box: { x: 0, y: 0, width: 60, height: 60 }, probs: [], state: { perclos } }];
  assert.deepEqual(drowsy.evaluate(result(0, { aus, faces: { count: 1, trackIds: [4] }, faceTracks: tracks(0.05) })), []);
  const [a] = drowsy.evaluate(result(1, { aus, faces: { count: 1, trackIds: [4] }, faceTracks: tracks(0.3) }));
  assert.equal(a?.kind, 'perclos');
  assert.equal(a?.value, 0.3);

  const gone = new AlertEvaluator(parseAlertRules([{ name: 'gone', kind: 'no-face', forMs: 1000 }]));
  // A video session whose first window (3 s) shows nobody: known absence from the analysed video, held 3 s >= 1 s.
  assert.equal(gone.evaluate(result(0, { faces: { count: 0, trackIds: [] }, faceTracks: [] }))[0]?.kind, 'no-face');
  const byCount = new AlertEvaluator(parseAlertRules([{ name: 'gone', kind: 'no-face', forMs: 1000 }]));
  assert.equal(byCount.evaluate(result(0, { faces: { count: 0, trackIds: [] } }))[0]?.kind, 'no-face');
  // An audio-only session (faces null, no tracks) never fires: its absence of a face is unknown.
  const audio = new AlertEvaluator(parseAlertRules([{ name: 'gone', kind: 'no-face' }]));
  for (let h = 0; h < 10; h++) assert.deepEqual(audio.evaluate(result(h, { faces: null })), []);
});
