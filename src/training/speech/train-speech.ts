import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { DEFAULT_ACTIVITY_GATE } from '../../features/speaker-norm.js';
import { loadSpeechDataset, priorStats } from './dataset.js';
import { memberSeed, runSpeechCv } from './cv.js';
import { buildReport, writeReport } from './report.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './train.js';
import { saveSpeechBundle } from './bundle.js';
import type { PoolProgress } from './train-pool.js';
import { DEFAULT_FUNCTIONAL_CONFIG, streamSpeakerNorm, type FunctionalCvConfig } from './functional-cv.js';
import { rawFunctionalCount, SHAPE_COUNT, SPECTRO_TEMPORAL_COUNT, VOICE_QUALITY_COUNT } from '../../features/functionals.js';
import { pitchPrior } from './functional-data.js';

/** Streaming contract of the shipped model: 3 s windows every 0.5 s at 16 kHz. */
export const WINDOW_SAMPLES = 48000;
export const HOP_SAMPLES = 8000;
/** The running normaliser's prior counts as 3 s of speech, then the session's own frames take over. */
export const PRIOR_WEIGHT_FRAMES = 300;
/** Networks per training in the shipped configuration (seed ensemble). */
export const DEFAULT_SEEDS = 2;

export interface TrainSpeechOptions {
  cv: boolean;
  exportModel: boolean;
  out: string;
  posteriorsDir: string | null;
  epochs?: number;
  innerSplits: number;
  folds?: number[];
  seed?: number;
  /** Seed-ensemble members per training (default DEFAULT_SEEDS). */
  seeds?: number;
  /** Parallel training workers (default: the machine's cores). */
  jobs?: number;
  /** Train and combine the window-functionals model (default true); false = the CNN ensemble alone. */
  functionals?: boolean;
  command: string;
  log: (msg: string) => void;
  progress?: (p: PoolProgress) => void;
}

export const CV_NOTES = [
  'Features: 40 log-mel bands (25 ms Hann frames, 10 ms hop, 512-point FFT, 20 Hz-8 kHz), computed by src/features, the same code the server runs incrementally.',
  'Per-speaker normalisation: per-band mean/std over the speaker\'s active frames (mean log-mel above -14 nats). Clip-level CV scores use each validation actor\'s statistics over all of their clips (unlabelled audio of that speaker); the streaming per-window score uses the server\'s causal running normaliser started from the training actors\' prior.',
  'Training: random 3 s crops (300 frames) of each clip per epoch, i.e. exactly the streaming window; augmentation in the log-mel domain (time shift, tempo ±10 %, mel-axis pitch shift ±1 band, gain ±5 dB, white noise at 10-40 dB SNR with p = 0.3, SpecAugment 2 time masks ≤ 20 frames and 2 frequency masks ≤ 4 bands).',
  'Clip posterior = mean of the posteriors of the clip\'s 3 s windows every 0.5 s (clips shorter than 3 s: one window, left-padded with the normalised mean, as in training).',
  'Out-of-fold train posteriors (posteriors/speech/fold<k>/train.csv): the fold\'s training actors are split subject-wise into gender-balanced groups (listed per fold); for each group a model with the same configuration (the same number of seed-ensemble members, so train and test posteriors are calibrated alike) is trained on the other groups and predicts the held-out group. test.csv holds the fold model\'s posteriors of the validation actors. No model ever scores a clip of an actor it trained on.',
  'Per-window accuracy: one session per validation actor through FeatureSpeechStream, clips pushed back to back in random order in 0.5 s hops, a 3 s window requested after each hop and scored once it lies inside one clip (or at the end of a clip shorter than 3 s).',
  'Parallelism: trainings (fold models, inner-split models, ensemble members, the all-actors model) run in worker threads, one TF.js wasm instance per core, each with its own fixed seed, so the numbers do not depend on the number of workers.',
  'Hyper-parameters were chosen on an inner split of fold 0\'s training actors (never on validation actors); the exploration table is in models/speech/NOTES.md.',
];

export const FUNCTIONALS_NOTES = [
  'Second model (window functionals): per 3 s window, 137 statistics of frame descriptors - per mel band the mean, standard deviation and the standard deviation of the first difference of the normalised log-mel (120), frame energy (mean, std, 10/50/90th percentile, slope, delta std), spectral tilt (mean, std), and pitch from YIN (512-sample buffer ending at each 10 ms frame, FFT difference function, threshold 0.15, 65-500 Hz) in semitones relative to the speaker\'s mean log F0: voiced fraction, mean, std, 10th/90th percentile, range, slope, mean absolute frame-to-frame change. The server computes the same features incrementally (src/features/pitch.ts, src/features/functionals.ts in FeatureSpeechStream).',
  'Its model: z-scored functionals -> Dense 128 ReLU -> dropout 0.3 -> Dense 8, Adam 1e-3, 30 epochs, batch 64, label smoothing 0.1, L2 1e-4, trained on 3 s crops every 0.1 s of every training clip; a 3-seed ensemble (mean posterior). Clip posterior = mean over the same 0.5 s-hop windows as the CNN.',
  'Combination: posterior proportional to p_cnn^w * p_functionals^(1-w) (weighted mean of log-posteriors). w is chosen per fold on the inner-split (out-of-fold) posteriors of the fold\'s training clips (grid 0, 0.05, ..., 1; best accuracy, ties by log-loss), never on validation clips; the shipped model uses the mean of the five fold weights. Posterior files hold the combination (train.csv: inner-split CNN and functionals posteriors combined with the fold\'s weight).',
  'Speaker pitch reference: clip-level CV scores use each actor\'s mean log F0 over all of their voiced frames (as for the log-mel statistics); the streaming score and the server use a running mean started from the training actors\' average, counted as 150 voiced frames.',
];

/** Added to FUNCTIONALS_NOTES when the functionals are speaker-normalised (and/or carry the voice-quality group). */
export function functionalVariantNotes(cfg: FunctionalCvConfig): string[] {
  const raw = rawFunctionalCount(cfg.voiceQuality, cfg.spectroTemporal === true, cfg.shape === true);
  const notes: string[] = [];
  if (cfg.voiceQuality) {
    notes.push(`Voice-quality functionals (${VOICE_QUALITY_COUNT} more): mean and std over voiced frames of YIN's cumulative mean normalised difference at the chosen period (an aperiodicity / HNR proxy), mean over the window's frames of its minimum over all lags, mean absolute frame-energy change between consecutive voiced frames (shimmer-like), and mean and std of the spectral flux (positive frame-to-frame change of the normalised log-mel, averaged over bands).`);
  }
  if (cfg.shape) {
    notes.push(`Shape functionals (${SHAPE_COUNT} more, ${raw} in all, fifth session): pitch-contour shape over the window's voiced frames (quadratic curvature in semitones per s², mean of the last third of the voiced frames minus the first third, share of rising and of falling frame pairs (more than 0.1 semitone), skewness of the pitch), skewness and excess kurtosis of the frame energy, and the skewness of the normalised log-mel in 8 groups of 5 bands.`);
  }
  if (cfg.spectroTemporal) {
    notes.push(`Spectro-temporal functionals (${SPECTRO_TEMPORAL_COUNT} more): standard deviation and delta standard deviation over the window of the cepstral coefficients c1..c12 (DCT-II of each normalised log-mel frame), and the log share of the frame-energy track's variance in the 1-2, 2-4, 4-8 and 8-16 Hz modulation bands.`);
  }
  if (cfg.subsetMembers && cfg.subsetMembers.seeds > 0) {
    notes.push(`Mixed-input functionals ensemble: besides the ${cfg.seeds} members on all ${raw} functionals, ${cfg.subsetMembers.seeds} members (the same seeds) see only the first ${cfg.subsetMembers.dims} (the set without the later groups); the ensemble's posterior is the mean over all ${cfg.seeds + cfg.subsetMembers.seeds} members. The subset members are widened to the full input with zero weights, so the graph has one functionals input.`);
  }
  if (cfg.speakerNorm) {
    notes.push(`Speaker-normalised functionals: the model takes ${cfg.speakerNormKeepRaw ? `${2 * raw} values per window, the ${raw} functionals and the same` : `the ${raw} functionals`} z-scored with the speaker's own functional statistics (mean and std of each functional over the speaker's 0.5 s-hop windows). Clip-level CV scores use each actor's statistics over all of their clips (unlabelled audio of that speaker, as for the log-mel statistics); the streaming score and the server use a running per-session accumulator over each new non-silent window, started from the training actors' average statistics counted as ${cfg.speakerNormPriorWeightWindows} windows.`);
  }
  return notes;
}

export function trainConfigFrom(opts: { epochs?: number; seed?: number }): TrainConfig {
  return { ...DEFAULT_TRAIN_CONFIG, epochs: opts.epochs ?? DEFAULT_TRAIN_CONFIG.epochs, seed: opts.seed ?? DEFAULT_TRAIN_CONFIG.seed };
}

export async function trainSpeech(opts: TrainSpeechOptions): Promise<void> {
  if (!opts.cv && !opts.exportModel) throw new Error('nothing to do: pass --cv (cross-validation report) and/or --export (train the shipped model)');
  const cfg = trainConfigFrom(opts);
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  const jobs = opts.jobs ?? availableParallelism();
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer (got ${opts.seeds})`);
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs must be a positive integer (got ${opts.jobs})`);
  const t0 = performance.now();
  opts.log('speech: computing log-mel features of all clips');
  const ds = loadSpeechDataset();
  opts.log(`speech: ${ds.items.length} clips in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const functionals = opts.functionals === false ? undefined : DEFAULT_FUNCTIONAL_CONFIG;
  const cv = await runSpeechCv({
    train: cfg, seeds, jobs, innerSplits: opts.innerSplits, posteriorsDir: opts.cv ? opts.posteriorsDir : null, functionals,
    windowSamples: WINDOW_SAMPLES, hopSamples: HOP_SAMPLES, priorWeightFrames: PRIOR_WEIGHT_FRAMES,
    onlyFolds: opts.cv ? opts.folds : [], trainAllActors: opts.exportModel, dataset: ds,
    onLog: (m) => opts.log(`speech: ${m}`),
    onProgress: opts.progress,
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (opts.cv) {
    const report = buildReport(cv, {
      train: cfg, seeds, jobs, innerSplits: opts.innerSplits, windowSamples: WINDOW_SAMPLES, hopSamples: HOP_SAMPLES, priorWeightFrames: PRIOR_WEIGHT_FRAMES,
      ...(functionals ? { functionals } : {}),
    }, opts.command, functionals ? [...CV_NOTES, ...FUNCTIONALS_NOTES, ...functionalVariantNotes(functionals)] : CV_NOTES, wallSeconds);
    writeReport(opts.out, report);
    opts.log(`speech: CV mean accuracy ${(report.meanAccuracy * 100).toFixed(2)} % ± ${(report.ci95 * 100).toFixed(2)}, per-window ${(report.windowAccuracy * 100).toFixed(2)} %; report in ${join(opts.out, 'report.md')}`);
  }
  if (opts.exportModel) {
    const actors = [...ds.actorStats.keys()].sort((a, b) => a - b);
    saveSpeechBundle(opts.out, {
      net: cfg.net, members: cv.allActorsMembers, mel: ds.mel, activityGate: DEFAULT_ACTIVITY_GATE, prior: priorStats(ds.actorStats, actors),
      priorWeightFrames: PRIOR_WEIGHT_FRAMES, windowSamples: WINDOW_SAMPLES, hopSamples: HOP_SAMPLES,
      ...(functionals && cv.functionals ? {
        functionals: {
          members: cv.functionals.allActorsMembers, weightCnn: cv.functionals.weightCnn, pitch: functionals.pitch,
          pitchPriorLog2Hz: pitchPrior(cv.functionals.pitchRefs, actors), pitchPriorWeightFrames: functionals.pitchPriorWeightFrames,
          ...(functionals.voiceQuality ? { voiceQuality: true } : {}),
          ...(functionals.spectroTemporal ? { spectroTemporal: true } : {}),
          ...(functionals.shape ? { shape: true } : {}),
          ...(functionals.speakerNorm ? { speakerNorm: streamSpeakerNorm(cv.functionals.prepared, functionals, actors) } : {}),
        },
      } : {}),
      training: {
        data: `RAVDESS speech, all ${actors.length} actors, ${ds.items.length} clips (CC BY-NC-SA 4.0)`, config: cfg, seeds,
        memberSeeds: cv.allActorsMembers.map((_, m) => memberSeed(cfg.seed, m)), command: opts.command,
        ...(functionals && cv.functionals ? {
          functionals: { config: functionals, weightCnn: cv.functionals.weightCnn, weightCnnFrom: opts.cv ? 'mean of the CV folds\' inner-split weights' : 'DEFAULT_WEIGHT_CNN (no CV in this run)' },
        } : {}),
      },
    });
    opts.log(`speech: model (${seeds} member${seeds > 1 ? 's' : ''}) written to ${opts.out}`);
  }
  opts.log(`speech: done in ${(wallSeconds / 60).toFixed(1)} min wall, ${(cv.coreSeconds / 60).toFixed(1)} core-minutes on ${jobs} worker(s)`);
}
