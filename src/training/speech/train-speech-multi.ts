import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { MelConfig } from '../../features/mel-config.js';
import { priorStats } from './dataset.js';
import { loadBundleWeights, saveSpeechBundle } from './bundle.js';
import { DEFAULT_FUNCTIONAL_CONFIG, DEFAULT_WEIGHT_CNN } from './functional-cv.js';
import { pitchPrior } from './functional-data.js';
import { runMultiCorpusFunctionalCv, type MultiCvResult } from './functional-multi-cv.js';
import { DEFAULT_BALANCE } from './multi-corpus.js';
import { augmentNames, loadMultiCorpusData, type MultiCorpusData } from './multi-corpus-data.js';
import type { WaveAugmentConfig } from './wave-augment.js';

/**
 * `emostream train speech --corpora ... --augment ...`: the functionals half is trained on several corpora and
 * waveform-augmented copies; the CNN half is reused as it is (its members from `cnnFrom`, its out-of-fold posteriors
 * from `cnnPosteriorsDir`): a CNN CV costs ~100 core-minutes, and the CNN still trains on RAVDESS alone with its
 * log-mel-domain augmentation (models/speech/report.md).
 */
export interface TrainSpeechMultiOptions {
  cv: boolean;
  exportModel: boolean;
  out: string;
  posteriorsDir: string | null;
  corpora: string[];
  augment: WaveAugmentConfig | null;
  cnnFrom: string;
  cnnPosteriorsDir: string;
  innerSplits: number;
  folds?: number[];
  /** Functionals seed-ensemble members (default: the shipped configuration's 3). */
  seeds?: number;
  seed: number;
  robustness: boolean;
  command: string;
  log: (msg: string) => void;
}

/** Log-mel front end and normaliser prior of the reused CNN (the server must see them unchanged). */
interface CnnContract { mel: MelConfig; activityGate: number; prior: { mean: number[]; std: number[]; weightFrames: number }; windowSamples: number; hopSamples: number; functionals?: { weightCnn: number }; training?: unknown }

const pct = (x: number) => (100 * x).toFixed(2);

export function multiReportMarkdown(r: MultiCvResult, m: MultiCorpusData, o: TrainSpeechMultiOptions, wallS: number): string {
  const conds = m.conditions.map((c) => c.name);
  const lines = [
    '# Speech: functionals half on several corpora + waveform augmentation, paper RAVDESS folds',
    '',
    `Command: \`${o.command}\`  `,
    `Run: ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}: ${(wallS / 60).toFixed(1)} min wall.  `,
    `Training pool: ${m.originals.length} clips (${m.corpora.map((c) => `${c.name} ${c.clips.length}`).join(', ')}) + ${m.copies} augmented copies (${augmentNames(o.augment).join(', ') || 'none'}); RAVDESS validation actors and their copies never trained on.  `,
    `CNN half reused: out-of-fold posteriors from \`${o.cnnPosteriorsDir}\` (RAVDESS only). Combination posterior ∝ p_cnn^w · p_functionals^(1-w), w chosen per fold on the inner splits.`,
    '',
    `**Mean clip accuracy over folds: ${pct(r.mean.combined)} %** (pooled ${pct(r.pooled.combined)} %); CNN alone ${pct(r.mean.cnn)} %, functionals alone ${pct(r.mean.functionals)} %; shipped w = ${r.weightCnn}.`,
    '',
    `| fold | validation actors | combined % | CNN % | functionals % | w | inner CNN / functionals / combined % | training items |${conds.map((c) => ` functionals, ${c} % |`).join('')}`,
    `|---|---|---|---|---|---|---|---|${conds.map(() => '---|').join('')}`,
    ...r.folds.map((f) => `| ${f.fold} | ${f.validationActors.join(', ')} | ${pct(f.combined)} | ${pct(f.cnn)} | ${pct(f.functionals)} | ${f.weightCnn} | ${pct(f.inner.cnn)} / ${pct(f.inner.functionals)} / ${pct(f.inner.combined)} | ${f.trainClips} |${conds.map((c) => ` ${pct(f.robust[c])} |`).join('')}`),
    `| mean | | **${pct(r.mean.combined)}** | ${pct(r.mean.cnn)} | ${pct(r.mean.functionals)} | ${r.weightCnn} | | |${conds.map((c) => ` ${pct(r.folds.reduce((s, f) => s + f.robust[c], 0) / r.folds.length)} |`).join('')}`,
    '',
  ];
  return lines.join('\n');
}

export async function trainSpeechMulti(o: TrainSpeechMultiOptions): Promise<void> {
  if (!o.cv && !o.exportModel) throw new Error('nothing to do: pass --cv (cross-validation report) and/or --export (train the shipped model)');
  const seeds = o.seeds ?? DEFAULT_FUNCTIONAL_CONFIG.seeds;
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer (got ${o.seeds})`);
  if (o.cv && !existsSync(join(o.cnnPosteriorsDir, 'fold0', 'test.csv'))) {
    throw new Error(`--cnn-posteriors ${o.cnnPosteriorsDir}: no fold0/test.csv (the CNN half's out-of-fold posteriors, CNN alone, are needed to combine)`);
  }
  const cnnJson = join(o.cnnFrom, 'model.json');
  if (o.exportModel && !existsSync(cnnJson)) throw new Error(`--cnn-from ${o.cnnFrom}: no model.json (the CNN half is reused from a bundle)`);
  // Read before anything is written: --out may be the same folder.
  const cnn = o.exportModel ? { ...loadBundleWeights(o.cnnFrom), contract: JSON.parse(readFileSync(cnnJson, 'utf8')) as CnnContract } : null;
  const t0 = performance.now();
  const cfg = { ...DEFAULT_FUNCTIONAL_CONFIG, seeds };
  const m = await loadMultiCorpusData({
    corpora: o.corpora, augment: o.augment, pitch: cfg.pitch, voiceQuality: cfg.voiceQuality, speakerPriorFrames: 300, seed: o.seed + 77,
    robustness: o.robustness && o.cv, log: (s) => o.log(`speech: ${s}`),
  });
  const r = await runMultiCorpusFunctionalCv(m, {
    cfg, balance: DEFAULT_BALANCE, speakerPriorPitchFrames: 150, cnnPosteriorsDir: o.cnnPosteriorsDir, innerSplits: o.innerSplits, baseSeed: o.seed,
    onlyFolds: o.cv ? o.folds : [], posteriorsDir: o.cv ? o.posteriorsDir : null, trainAllActors: o.exportModel, log: (s) => o.log(`speech: ${s}`),
  });
  const wallS = (performance.now() - t0) / 1000;
  mkdirSync(o.out, { recursive: true });
  if (o.cv) {
    writeFileSync(join(o.out, 'report-multi-corpus.json'), JSON.stringify({ command: o.command, corpora: o.corpora, augment: augmentNames(o.augment), seeds, wallSeconds: wallS, ...r, allActorsMembers: undefined, data: undefined, pitchRefs: undefined }, null, 2) + '\n');
    writeFileSync(join(o.out, 'report-multi-corpus.md'), multiReportMarkdown(r, m, o, wallS));
    o.log(`speech: CV mean accuracy ${pct(r.mean.combined)} % (functionals ${pct(r.mean.functionals)} %, CNN ${pct(r.mean.cnn)} %); report in ${join(o.out, 'report-multi-corpus.md')}`);
  }
  if (cnn) {
    const c = cnn.contract;
    const weightCnn = o.cv && Number.isFinite(r.weightCnn) ? r.weightCnn : (c.functionals?.weightCnn ?? DEFAULT_WEIGHT_CNN);
    const fstats = r.data.actorFunctionalStats;
    if (cfg.speakerNorm && !fstats) throw new Error('speaker-normalised functionals: no per-speaker functional statistics were computed');
    saveSpeechBundle(o.out, {
      net: cnn.net, members: cnn.members, mel: c.mel, activityGate: c.activityGate,
      prior: { mean: Float32Array.from(c.prior.mean), std: Float32Array.from(c.prior.std) }, priorWeightFrames: c.prior.weightFrames,
      windowSamples: c.windowSamples, hopSamples: c.hopSamples,
      functionals: {
        members: r.allActorsMembers, weightCnn, pitch: cfg.pitch, pitchPriorLog2Hz: pitchPrior(r.pitchRefs, m.realSpeakers), pitchPriorWeightFrames: cfg.pitchPriorWeightFrames,
        voiceQuality: cfg.voiceQuality, shape: cfg.shape === true,
        ...(cfg.speakerNorm && fstats ? { speakerNorm: { prior: priorStats(fstats, m.realSpeakers), weightWindows: cfg.speakerNormPriorWeightWindows, keepRaw: cfg.speakerNormKeepRaw } } : {}),
      },
      training: {
        data: `CNN: RAVDESS speech, all 24 actors (CC BY-NC-SA 4.0), reused from ${o.cnnFrom}; functionals MLP: ${m.corpora.map((x) => `${x.name} ${x.clips.length} clips`).join(', ')} + ${m.copies} augmented copies (${augmentNames(o.augment).join(', ') || 'none'}); RAVDESS CC BY-NC-SA 4.0, ASED and URDU research use only`,
        command: o.command, cnn: c.training,
        functionals: { config: cfg, corpora: o.corpora, augment: augmentNames(o.augment), balance: DEFAULT_BALANCE, weightCnn, weightCnnFrom: o.cv ? 'mean of the CV folds\' inner-split weights' : 'the reused bundle\'s weight' },
      },
    });
    o.log(`speech: model written to ${o.out} (CNN from ${o.cnnFrom}, ${r.allActorsMembers.length} functionals members, w = ${weightCnn})`);
  }
  o.log(`speech: done in ${(wallS / 60).toFixed(1)} min wall`);
}
