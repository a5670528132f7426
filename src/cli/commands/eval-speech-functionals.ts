import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';

/** The shared `eval` parent command: found if another module registered it, else created. */
function evalCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('Evaluate models on labelled data');
}

export function register(program: Command): void {
  evalCommand(program)
    .command('speech-functionals')
    .description('Subject-wise 5-fold CV of the window-functionals speech model (log-mel + pitch statistics, MLP) alone and combined with the CNN\'s existing out-of-fold posteriors (weight chosen on inner splits)')
    .option('--posteriors <dir>', 'the CNN\'s out-of-fold posteriors (fold<k>/{train,test}.csv)', 'posteriors/speech')
    .option('--seeds <k>', 'functionals-model seed ensemble size', '3')
    .option('--hidden <n>', 'hidden units (0 = multinomial logistic regression)')
    .option('--drop <groups>', 'ablation: comma-separated descriptor groups to leave out (pitch)')
    .option('--voice-quality <on>', 'add the voice-quality functionals (on/off; default: the shipped configuration\'s)')
    .option('--spectro-temporal <on>', 'add the spectro-temporal functionals: cepstral dynamics, energy modulation spectrum (on/off; default: the shipped configuration\'s)')
    .option('--shape <on>', 'add the shape functionals: pitch-contour shape, energy and band-group skewness (on/off; default: the shipped configuration\'s)')
    .option('--subset-members <dims:seeds>', 'mixed-input ensemble: also train <seeds> members on the first <dims> functionals (e.g. 143:3 with --spectro-temporal on); default: the shipped configuration\'s')
    .option('--model-seed <n>', 'base seed of the functionals models (default: the shipped configuration\'s)')
    .option('--speaker-norm <mode>', 'functionals z-scored per speaker: off, append (raw and normalised) or replace (normalised only); default: the shipped configuration\'s')
    .option('--json <file>', 'write the per-fold result as JSON')
    .option('--posteriors-out <dir>', 'write the functionals model\'s posteriors (fold<k>/test.csv validation, train.csv inner-split out-of-fold)')
    .action(async (opts: { posteriors: string; seeds: string; hidden?: string; drop?: string; voiceQuality?: string; spectroTemporal?: string; shape?: string; subsetMembers?: string; modelSeed?: string; speakerNorm?: string; json?: string; posteriorsOut?: string }) => {
      const { evaluateFunctionalComplement } = await import('../../training/speech/complement-eval.js');
      const { DEFAULT_FUNCTIONAL_CONFIG } = await import('../../training/speech/functional-cv.js');
      const seeds = Number(opts.seeds);
      if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer (got ${opts.seeds})`);
      const hidden = opts.hidden === undefined ? DEFAULT_FUNCTIONAL_CONFIG.model.hidden : Number(opts.hidden);
      if (!(Number.isInteger(hidden) && hidden >= 0)) throw new Error(`--hidden must be a non-negative integer (got ${opts.hidden})`);
      if (opts.speakerNorm !== undefined && !['off', 'append', 'replace'].includes(opts.speakerNorm)) throw new Error(`--speaker-norm must be off, append or replace (got ${opts.speakerNorm})`);
      const mode = opts.speakerNorm ?? (DEFAULT_FUNCTIONAL_CONFIG.speakerNorm ? (DEFAULT_FUNCTIONAL_CONFIG.speakerNormKeepRaw ? 'append' : 'replace') : 'off');
      const speakerNorm = mode === 'off' ? undefined : { keepRaw: mode === 'append' };
      if (opts.voiceQuality !== undefined && !['on', 'off'].includes(opts.voiceQuality)) throw new Error(`--voice-quality must be on or off (got ${opts.voiceQuality})`);
      const voiceQuality = opts.voiceQuality === undefined ? DEFAULT_FUNCTIONAL_CONFIG.voiceQuality : opts.voiceQuality === 'on';
      if (opts.spectroTemporal !== undefined && !['on', 'off'].includes(opts.spectroTemporal)) throw new Error(`--spectro-temporal must be on or off (got ${opts.spectroTemporal})`);
      const spectroTemporal = opts.spectroTemporal === undefined ? DEFAULT_FUNCTIONAL_CONFIG.spectroTemporal === true : opts.spectroTemporal === 'on';
      if (opts.shape !== undefined && !['on', 'off'].includes(opts.shape)) throw new Error(`--shape must be on or off (got ${opts.shape})`);
      const shape = opts.shape === undefined ? DEFAULT_FUNCTIONAL_CONFIG.shape === true : opts.shape === 'on';
      let subset = DEFAULT_FUNCTIONAL_CONFIG.subsetMembers;
      if (opts.subsetMembers !== undefined) {
        const [d, k] = opts.subsetMembers.split(':').map(Number);
        if (opts.subsetMembers === 'off') subset = undefined;
        else if (!(Number.isInteger(d) && d > 0 && Number.isInteger(k) && k >= 0)) throw new Error(`--subset-members must be <dims>:<seeds> or off (got ${opts.subsetMembers})`);
        else subset = { dims: d, seeds: k };
      }
      const modelSeed = opts.modelSeed === undefined ? DEFAULT_FUNCTIONAL_CONFIG.model.seed : Number(opts.modelSeed);
      if (!Number.isInteger(modelSeed)) throw new Error(`--model-seed must be an integer (got ${opts.modelSeed})`);
      const r = await evaluateFunctionalComplement({
        cnnPosteriorsDir: opts.posteriors, model: { ...DEFAULT_FUNCTIONAL_CONFIG.model, hidden, seed: modelSeed }, seeds, subset, innerSplits: 2,
        trainHopFrames: DEFAULT_FUNCTIONAL_CONFIG.trainHopFrames, evalHopFrames: 50, windowFrames: 300,
        drop: opts.drop?.split(','), speakerNorm, voiceQuality, spectroTemporal, shape, posteriorsOut: opts.posteriorsOut, log: (m) => process.stderr.write(m + '\n'),
      });
      const pct = (x: number) => (x * 100).toFixed(2);
      console.log('| fold | CNN % | functionals % | combined % | CNN weight (inner) |\n|---|---|---|---|---|');
      for (const f of r.folds) console.log(`| ${f.fold} | ${pct(f.cnn)} | ${pct(f.functionals)} | ${pct(f.combined)} | ${f.weightCnn} |`);
      console.log(`| mean | ${pct(r.mean.cnn)} | ${pct(r.mean.functionals)} | ${pct(r.mean.combined)} | |`);
      console.log(`\nInner splits (selection criterion), mean over folds: functionals ${pct(r.innerMean.functionals)} %, combined ${pct(r.innerMean.combined)} %`);
      if (opts.json) writeFileSync(opts.json, JSON.stringify(r, null, 2) + '\n');
    });
}
