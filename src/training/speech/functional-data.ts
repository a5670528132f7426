import type * as tfType from '@tensorflow/tfjs';
import { readWav } from '../../features/wav.js';
import { pitchFrameCount, pitchFrames, semitones, SpeakerPitchAccumulator, type PitchConfig } from '../../features/pitch.js';
import { FunctionalStatsAccumulator, normaliseFunctionals, rawFunctionalCount, windowFunctionals, type FunctionalNormStats, type VoiceTracks } from '../../features/functionals.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import type { NormStats } from '../../features/speaker-norm.js';
import { priorStats, type SpeechDataset, type SpeechItem } from './dataset.js';
import { plainWindow } from './augment.js';
import { clipWindowEnds } from './train.js';
import { trainFunctionalModel, predictFunctionalModel, widenFunctionalModel, type FunctionalModel, type FunctionalModelConfig, type RowOptions } from './functional-model.js';

type Tf = typeof tfType;

/** Lets the event loop run (worker messages of a concurrent training pool) during long main-thread work. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The pitch track of every clip (same frames as its log-mel), computed with the server's PitchFrameComputer; with
 * `voice`, also each clip's voice-quality tracks (aperiodicity, CMND minimum) from the same YIN pass.
 */
export async function computePitchTracks(ds: SpeechDataset, cfg: PitchConfig, voice?: Map<SpeechItem, VoiceTracks>): Promise<Map<SpeechItem, Float32Array>> {
  const out = new Map<SpeechItem, Float32Array>();
  for (const it of ds.items) {
    const samples = readWav(it.clip.path).samples;
    const n = pitchFrameCount(samples.length, ds.mel);
    const v = voice ? { aperiodicity: new Float32Array(n), minCmnd: new Float32Array(n) } : undefined;
    const p = pitchFrames(samples, ds.mel, cfg, v);
    if (p.length !== it.frames) throw new Error(`${it.clip.clipId}: ${p.length} pitch frames, ${it.frames} log-mel frames`);
    out.set(it, p);
    if (voice && v) voice.set(it, v);
    await yieldToLoop();
  }
  return out;
}

/** Mean log2 F0 over each actor's voiced frames (all of their clips, as the log-mel speaker statistics). */
export function actorPitchRefs(items: SpeechItem[], pitch: Map<SpeechItem, Float32Array>, priorFrames = 0, priorActors?: number[]): Map<number, number> {
  const refs = (prior?: { meanLog2Hz: number; weightFrames: number }) => {
    const acc = new Map<number, SpeakerPitchAccumulator>();
    for (const it of items) {
      let a = acc.get(it.actor);
      if (!a) acc.set(it.actor, (a = new SpeakerPitchAccumulator(prior)));
      for (const hz of pitch.get(it)!) a.add(hz);
    }
    return new Map([...acc].map(([actor, a]) => [actor, a.meanLog2Hz()]));
  };
  const own = refs();
  if (priorFrames <= 0) return own;
  // Few-clip speakers (multi-corpus): start from the mean of all speakers' references, as the server's stream does.
  const finite = (priorActors ?? [...own.keys()]).map((a) => own.get(a)!).filter(Number.isFinite);
  return refs({ meanLog2Hz: finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length), weightFrames: priorFrames });
}

/** The streaming pitch reference's prior: the mean of the given (training) actors' references. */
export function pitchPrior(refs: Map<number, number>, actors: number[]): number {
  if (actors.length === 0) throw new Error('pitchPrior: no actors');
  return actors.reduce((s, a) => {
    const r = refs.get(a);
    if (r === undefined) throw new Error(`pitchPrior: no pitch reference for actor ${a}`);
    return s + r;
  }, 0) / actors.length;
}

/**
 * Functionals of the `windowFrames` window of a clip ending at frame `endFrame` (exclusive): log-mel normalised with
 * `stats`, frames before the clip padded with 0 (as plainWindow does for the CNN), pitch in semitones relative to
 * `refLog2Hz` (NaN where unvoiced or padded). What the server's FeatureSpeechStream computes for a window.
 */
export function windowFunctionalsAt(
  logMel: Float32Array, pitchHz: Float32Array, stats: NormStats, refLog2Hz: number, endFrame: number, windowFrames: number,
  out: Float32Array, offset: number, scratch?: { win: Float32Array; st: Float32Array }, voice?: VoiceTracks, spectroTemporal = false, shape = false,
): void {
  const bands = stats.mean.length;
  const win = scratch?.win ?? new Float32Array(windowFrames * bands), st = scratch?.st ?? new Float32Array(windowFrames);
  plainWindow(logMel, endFrame, bands, stats, windowFrames, win, 0);
  const wv = voice ? { aperiodicity: new Float32Array(windowFrames), minCmnd: new Float32Array(windowFrames) } : undefined;
  for (let t = 0; t < windowFrames; t++) {
    const f = endFrame - windowFrames + t;
    st[t] = f < 0 ? NaN : semitones(pitchHz[f], refLog2Hz);
    if (voice && wv) {
      wv.aperiodicity[t] = f < 0 ? NaN : voice.aperiodicity[f];
      wv.minCmnd[t] = f < 0 ? NaN : voice.minCmnd[f];
    }
  }
  windowFunctionals(win, st, windowFrames, bands, out, offset, wv, spectroTemporal, shape);
}

/**
 * Window functionals of every clip: dense crops for training (every `trainHopFrames`), the scored windows for evaluation.
 * With speaker normalisation each row is the functionals z-scored with the actor's functional statistics, preceded by
 * the raw ones when `keepRaw`.
 */
export interface FunctionalData {
  dims: number;
  train: Map<SpeechItem, Float32Array>;
  eval: Map<SpeechItem, Float32Array>;
  /** Per actor: mean and std of each raw functional over the actor's scored windows (with speaker normalisation). */
  actorFunctionalStats?: Map<number, FunctionalNormStats>;
}

/** Statistics of each raw functional over every scored window of each actor (what the server's running normaliser converges to). */
export function actorFunctionalStats(items: SpeechItem[], evalRaw: Map<SpeechItem, Float32Array>, dims: number, priorWindows = 0, priorActors?: number[]): Map<number, FunctionalNormStats> {
  const stats = (prior?: { stats: FunctionalNormStats; weightWindows: number }) => {
    const acc = new Map<number, FunctionalStatsAccumulator>();
    for (const it of items) {
      let a = acc.get(it.actor);
      if (!a) acc.set(it.actor, (a = new FunctionalStatsAccumulator(dims, prior)));
      const x = evalRaw.get(it)!;
      for (let o = 0; o < x.length; o += dims) a.add(x, o);
    }
    return new Map([...acc].map(([actor, a]) => [actor, a.stats()]));
  };
  const own = stats();
  if (priorWindows <= 0) return own;
  // A speaker with two clips has ~8 windows: start from the mean speaker's statistics, as the server's normaliser does.
  return stats({ stats: priorStats(own, priorActors ?? [...own.keys()]), weightWindows: priorWindows });
}

/** Rows [raw, z-scored with `stats`] (keepRaw) or [z-scored] from rows of raw functionals. */
function withSpeakerNorm(raw: Float32Array, dims: number, stats: FunctionalNormStats, keepRaw: boolean): Float32Array {
  const rows = raw.length / dims, width = keepRaw ? 2 * dims : dims, out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const x = raw.subarray(r * dims, (r + 1) * dims);
    if (keepRaw) out.set(x, r * width);
    normaliseFunctionals(x, stats, out, r * width + width - dims);
  }
  return out;
}

export async function computeFunctionalData(
  ds: SpeechDataset, pitch: Map<SpeechItem, Float32Array>, refs: Map<number, number>,
  opts: { windowFrames: number; trainHopFrames: number; evalHopFrames: number; dropPitch?: boolean; speakerNorm?: { keepRaw: boolean; priorWindows?: number; priorActors?: number[] }; voice?: Map<SpeechItem, VoiceTracks>; spectroTemporal?: boolean; shape?: boolean },
): Promise<FunctionalData> {
  const bands = ds.mel.melBands, W = opts.windowFrames, D = rawFunctionalCount(opts.voice !== undefined, opts.spectroTemporal === true, opts.shape === true);
  const scratch = { win: new Float32Array(W * bands), st: new Float32Array(W) };
  const featuresOf = (it: SpeechItem, ends: number[]): Float32Array => {
    const stats = ds.actorStats.get(it.actor)!;
    const p = opts.dropPitch ? new Float32Array(it.frames) : pitch.get(it)!;
    const x = new Float32Array(ends.length * D);
    const voice = opts.voice ? opts.voice.get(it) : undefined;
    if (opts.voice && !voice) throw new Error(`${it.clip.clipId}: no voice-quality tracks`);
    ends.forEach((e, k) => windowFunctionalsAt(it.logMel, p, stats, refs.get(it.actor)!, e, W, x, k * D, scratch, voice, opts.spectroTemporal === true, opts.shape === true));
    return x;
  };
  const trainEnds = (it: SpeechItem) => (it.frames <= W ? [it.frames]
    : Array.from({ length: Math.floor((it.frames - W) / opts.trainHopFrames) + 1 }, (_, i) => W + i * opts.trainHopFrames));
  const train = new Map<SpeechItem, Float32Array>(), evalMap = new Map<SpeechItem, Float32Array>();
  for (const it of ds.items) {
    train.set(it, featuresOf(it, trainEnds(it)));
    evalMap.set(it, featuresOf(it, clipWindowEnds(it.frames, W, opts.evalHopFrames)));
    await yieldToLoop();
  }
  if (!opts.speakerNorm) return { dims: D, train, eval: evalMap };
  // Statistics from the scored (0.5 s hop) windows, as the server's normaliser sees one window per hop; applied to
  // the training crops of the same actor too.
  const stats = actorFunctionalStats(ds.items, evalMap, D, opts.speakerNorm.priorWindows ?? 0, opts.speakerNorm.priorActors);
  for (const it of ds.items) {
    const s = stats.get(it.actor)!;
    train.set(it, withSpeakerNorm(train.get(it)!, D, s, opts.speakerNorm.keepRaw));
    evalMap.set(it, withSpeakerNorm(evalMap.get(it)!, D, s, opts.speakerNorm.keepRaw));
  }
  return { dims: opts.speakerNorm.keepRaw ? 2 * D : D, train, eval: evalMap, actorFunctionalStats: stats };
}

/**
 * Members of a mixed-input ensemble that see only the first `dims` functionals (e.g. the 143 of the voice-quality set
 * inside the 171 with the spectro-temporal group): seeds seed + m, widened to the full input with zero weights.
 */
export interface SubsetMembers {
  dims: number;
  seeds: number;
}

/**
 * Seed ensemble of functionals models trained on the crops of `items` (member m: seed + m), then, with `subset`, the
 * subset members (seed + m again: they differ from the full members in their input).
 */
export async function trainFunctionalMembers(
  tf: Tf, data: FunctionalData, items: SpeechItem[], cfg: FunctionalModelConfig, seeds: number, seed: number, subset?: SubsetMembers,
  weights?: Map<SpeechItem, number>,
): Promise<FunctionalModel[]> {
  const D = data.dims;
  const n = items.reduce((s, it) => s + data.train.get(it)!.length / D, 0);
  const x = new Float32Array(n * D), y = new Int32Array(n);
  // Several corpora: each crop carries its clip's class mask and balance weight (multi-corpus.ts); RAVDESS alone: none.
  const rowOpts: RowOptions | undefined = weights || items.some((it) => it.classMask)
    ? { mask: new Uint8Array(n * NUM_EMOTIONS).fill(1), weight: new Float32Array(n).fill(1) }
    : undefined;
  let r = 0;
  for (const it of items) {
    const f = data.train.get(it)!;
    const k = f.length / D;
    x.set(f, r * D);
    y.fill(it.label, r, r + k);
    if (rowOpts) {
      for (let j = r; j < r + k; j++) if (it.classMask) rowOpts.mask!.set(it.classMask, j * NUM_EMOTIONS);
      rowOpts.weight!.fill(weights?.get(it) ?? 1, r, r + k);
    }
    r += k;
  }
  const members: FunctionalModel[] = [];
  for (let m = 0; m < seeds; m++) members.push(await trainFunctionalModel(tf, x, y, n, D, { ...cfg, seed: seed + m }, yieldToLoop, rowOpts));
  if (subset && subset.seeds > 0) {
    const S = subset.dims;
    if (!(Number.isInteger(S) && S > 0 && S < D)) throw new Error(`subset members: ${S} inputs must be fewer than the ${D} functionals`);
    const xs = new Float32Array(n * S);
    for (let i = 0; i < n; i++) xs.set(x.subarray(i * D, i * D + S), i * S);
    for (let m = 0; m < subset.seeds; m++) members.push(widenFunctionalModel(await trainFunctionalModel(tf, xs, y, n, S, { ...cfg, seed: seed + m }, yieldToLoop, rowOpts), D));
  }
  return members;
}

/** Mean over members of the softmax posteriors of `n` functional vectors [n, dims]: [n * 8]. */
export function predictFunctionalEnsemble(members: FunctionalModel[], x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * NUM_EMOTIONS);
  for (const model of members) {
    const p = predictFunctionalModel(model, x, n);
    for (let i = 0; i < out.length; i++) out[i] += p[i] / members.length;
  }
  return out;
}

/** Clip posterior = mean over the clip's scored windows of the ensemble's window posterior (as for the CNN). */
export function predictFunctionalClips(members: FunctionalModel[], data: FunctionalData, items: SpeechItem[]): Float32Array[] {
  return items.map((it) => {
    const f = data.eval.get(it)!;
    const k = f.length / data.dims;
    const p = predictFunctionalEnsemble(members, f, k);
    const mean = new Float32Array(NUM_EMOTIONS);
    for (let i = 0; i < k; i++) for (let c = 0; c < NUM_EMOTIONS; c++) mean[c] += p[i * NUM_EMOTIONS + c] / k;
    return mean;
  });
}
