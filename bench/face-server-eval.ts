/**
 * The face branch through the real server, video only (no audio), as a user sees it: createEmoServer on an ephemeral
 * port, one session per clip, JPEG frames at 10 fps in real time from the Node client, every result's `fused` and
 * `face.smoothed` collected.
 *   clips: every labelled clip of ../shared/faces (CREMA-D 1001, MEAD W009/W011; MEAD contempt is listed, not
 *          scored), its own session each; a clip counts as right when the mean of its results' fused posteriors
 *          has the clip's label as its largest class (the final result's label is reported too).
 *   loop:  one clip looped to `--seconds` (default 30): the share of results whose fused label is the clip's label,
 *          over all results and over the last third (issue 20's held-smile target: >= 70 % happy).
 *   av:    the CREMA-D clips with audio (1001: video too; 1002: audio only), each streamed twice in real time, speech
 *          only and speech + video, through the CLI's replay path; per clip the label and the true class's probability
 *          of the mean fused posterior (issue 20: no clip worse with its face than speech alone without saying why).
 * `--pace f` sends at f x real time (pts unchanged): on a shared machine under nice the server may get too little CPU to
 * analyse frames in real time (frames are then skipped, newest wins, and a 2 s clip can end before any face was
 * analysed); --pace 0.25 gives it four times the wall time without changing what it computes per frame.
 * Per clip the frames the server skipped are counted (/metrics): a run with skipped frames did not score the frames
 * the offline replay (bench/face-path-diagnosis.ts) sees, so its rows are not comparable with it.
 * Run: node --import tsx bench/face-server-eval.ts [--pace 1] [--out name.json] [--loop mead/W011_front_happy_level3_001.mp4 --seconds 30 | --av]
 * Writes bench/results/face-server-eval.json (or face-server-loop.json, face-server-av.json).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { join, relative } from 'node:path';
import { EmoStreamClient } from '../clients/node/client.js';
import { decodeI420, decodePcm16k, probeMedia } from '../clients/node/media.js';
import { replay } from '../clients/node/replay.js';
import { extractJpegFrames, type JpegFrame } from '../src/training/face-eval/clip-frames.js';
import { parseClipLabel } from '../src/training/face-eval/clip-labels.js';
import { listLabelledClips } from '../src/training/face-eval/eval-clips.js';
import { EMOTIONS } from '../src/protocol/labels.js';
import type { EmotionResult } from '../src/protocol/v1/messages.js';
import { createEmoServer } from '../src/server/app.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const shared = new URL('../../shared/faces', import.meta.url).pathname;
if (!existsSync(shared)) {
  console.error(`../shared/faces not found (${shared}): nothing to evaluate`);
  process.exit(0);
}
const loopClip = opt('--loop');
const seconds = Number(opt('--seconds') ?? 30);
const pace = Number(opt('--pace') ?? 1);
if (!(pace > 0 && pace <= 1)) throw new Error(`--pace must be in (0, 1], got ${opt('--pace')}`);
const argmaxLabel = (p: number[]): string => EMOTIONS[p.indexOf(Math.max(...p))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1' }, log: { level: 'warn' } } as never });
const port = await server.listen();

/**
 * Frames the server did not analyse so far (frame-rate cap, or the analyzer still busy with an older frame: newest
 * wins), from /metrics; null when the endpoint does not answer. A clip with skipped frames was not scored on the
 * frames the offline replay sees (on a starved machine the server analyses fewer of them).
 */
async function skippedFrames(): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
  if (!res?.ok) return null;
  const m = /^emostream_video_frames_skipped_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

/** Streams frames (pts from 0) in real time over one session; returns its results. */
const clientErrors: Record<string, string[]> = {};
async function stream(frames: JpegFrame[], name: string): Promise<EmotionResult[]> {
  const client = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${port}`, client: `face-server-eval ${name}` });
  const results: EmotionResult[] = [];
  const reader = (async () => {
    for await (const r of client.results()) results.push(r);
  })();
  const t0 = performance.now();
  for (const f of frames) {
    const wait = f.ptsUs / 1000 / pace - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    client.sendVideo('jpeg', f.width, f.height, f.jpeg, f.ptsUs);
  }
  await client.end();
  await reader;
  if (client.errors.length) clientErrors[name] = client.errors.map((e) => `${e.code}: ${e.message}`);
  return results;
}

const mean = (rows: number[][]): number[] => rows[0].map((_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
const machine = { pace, cpu: cpus()[0]?.model, cores: cpus().length, platform: platform(), arch: arch(), node: process.version, loadavg1m: loadavg()[0] };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
try {
  if (args.includes('--av')) {
    const rows = [];
    const dir = join(shared, 'cremad');
    for (const file of readdirSync(join(dir, 'audio-16k')).filter((f) => f.endsWith('.wav')).sort()) {
      const base = file.replace(/\.wav$/, '');
      const label = parseClipLabel(file)!.emotion!;
      const video = existsSync(join(dir, `${base}.flv`)) ? join(dir, `${base}.flv`) : null;
      const run = async (withVideo: boolean) => {
        const client = await EmoStreamClient.connect({ url: `ws://127.0.0.1:${port}`, client: `face-server-eval av ${base}` });
        const size = withVideo && video ? (await probeMedia(video)).video : null;
        const { results } = await replay(client, decodePcm16k(join(dir, 'audio-16k', file), 320), { realtime: true, video: size ? decodeI420(video!, 10, 320, size) : undefined });
        await client.end().catch(() => undefined);
        const fused = results.filter((r) => r.fused);
        const m = mean(fused.map((r) => r.fused!.probs));
        return { label: argmaxLabel(m), truth: +m[EMOTIONS.indexOf(label)].toFixed(3), heads: [...new Set(fused.map((r) => r.fused!.head))].join(',') };
      };
      const speechOnly = await run(false);
      const withFace = video ? await run(true) : null;
      const row = { clip: base, label, speechOnly, withFace, worse: withFace ? withFace.truth < speechOnly.truth : null };
      rows.push(row);
      console.error(JSON.stringify(row));
    }
    const out = { bench: 'face-server-av', date: new Date().toISOString(), machine, clips: rows };
    writeFileSync(new URL('./results/face-server-av.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
  } else if (loopClip) {
    const path = join(shared, loopClip);
    const label = parseClipLabel(path)?.emotion;
    const one = await extractJpegFrames(path, 10);
    const n = Math.round(seconds * 10);
    const frames = Array.from({ length: n }, (_, i) => ({ ...one[i % one.length], ptsUs: i * 100_000 }));
    const results = (await stream(frames, loopClip)).filter((r) => r.fused);
    const labels = results.map((r) => r.fused!.label);
    const smoothed = results.map((r) => (r.face as { smoothed?: { label: string } } | null)?.smoothed?.label ?? null);
    const lastThird = labels.slice(Math.floor((labels.length * 2) / 3));
    const share = (xs: (string | null)[]) => +(xs.filter((l) => l === label).length / Math.max(1, xs.length)).toFixed(3);
    const out = {
      bench: 'face-server-loop', date: new Date().toISOString(), machine, clip: loopClip, label, seconds, results: results.length,
      fusedLabelShare: share(labels), fusedLabelShareLastThird: share(lastThird), lastThirdResults: lastThird.length,
      smoothedLabelShareLastThird: share(smoothed.slice(Math.floor((smoothed.length * 2) / 3))),
      target: { lastThirdShare: 0.7, met: share(lastThird) >= 0.7 },
      fusedLabels: labels,
      heads: [...new Set(results.map((r) => r.fused!.head))],
    };
    writeFileSync(new URL('./results/face-server-loop.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
    console.log(JSON.stringify({ ...out, fusedLabels: labels.join(' ') }, null, 1));
  } else {
    const rows = [];
    for (const path of listLabelledClips(shared)) {
      const label = parseClipLabel(path)!;
      const skipped0 = await skippedFrames();
      const results = (await stream(await extractJpegFrames(path, 10), relative(shared, path))).filter((r) => r.fused);
      const meanFused = results.length ? mean(results.map((r) => r.fused!.probs)) : null;
      const predicted = meanFused ? argmaxLabel(meanFused) : null;
      const final = results.at(-1);
      const row = {
        clip: relative(shared, path), label: label.emotion ?? `(${label.source})`, results: results.length, predicted,
        right: label.emotion !== null && predicted === label.emotion, finalLabel: final?.fused?.label ?? null,
        finalSmoothedLabel: (final?.face as { smoothed?: { label: string } } | null)?.smoothed?.label ?? null,
        heads: [...new Set(results.map((r) => r.fused!.head))].join(','),
        // Per result: its fused label (which windows pull the clip's mean where).
        fusedLabels: results.map((r) => r.fused!.label).join(' '),
        skippedFrames: skipped0 === null ? null : ((await skippedFrames()) ?? skipped0) - skipped0,
        errors: clientErrors[relative(shared, path)] ?? [],
      };
      rows.push(row);
      console.error(`${row.clip}: ${row.label} -> ${row.predicted} (final ${row.finalLabel}, ${row.results} results, ${row.skippedFrames} frames skipped, ${row.heads})${row.errors.length ? ` errors: ${row.errors.join('; ')}` : ''}`);
    }
    const scored = rows.filter((r) => EMOTIONS.includes(r.label as never));
    const out = { bench: 'face-server-eval', date: new Date().toISOString(), machine, clips: rows, right: scored.filter((r) => r.right).length, scored: scored.length, finalRight: scored.filter((r) => r.finalLabel === r.label).length, skippedFrames: rows.reduce((n, r) => n + (r.skippedFrames ?? 0), 0) };
    writeFileSync(new URL(`./results/${opt('--out') ?? 'face-server-eval.json'}`, import.meta.url), JSON.stringify(out, null, 1) + '\n');
    console.log(`clips right (mean fused posterior): ${out.right}/${out.scored}; final result's label right: ${out.finalRight}/${out.scored}`);
  }
} finally {
  await server.close();
}
