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
    .option('--speaker-norm <mode>', 'functionals z-scored per speaker: off, append (raw and normalised) or replace (normalised only); default: the shipped configuration\'s')
    .option('--json <file>', 'write the per-fold result as JSON')
    .action(async (opts: { posteriors: string; seeds: string; hidden?: string; drop?: string; voiceQuality?: string; speakerNorm?: string; json?: string }) => {
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
      const r = await evaluateFunctionalComplement({
        cnnPosteriorsDir: opts.posteriors, model: { ...DEFAULT_FUNCTIONAL_CONFIG.model, hidden }, seeds, innerSplits: 2,
        trainHopFrames: DEFAULT_FUNCTIONAL_CONFIG.trainHopFrames, evalHopFrames: 50, windowFrames: 300,
        drop: opts.drop?.split(','), speakerNorm, voiceQuality, log: (m) => process.stderr.write(m + '\n'),
      });
      const pct = (x: number) => (x * 100).toFixed(2);
      console.log('| fold | CNN % | functionals % | combined % | CNN weight (inner) |\n|---|---|---|---|---|');
      for (const f of r.folds) console.log(`| ${f.fold} | ${pct(f.cnn)} | ${pct(f.functionals)} | ${pct(f.combined)} | ${f.weightCnn} |`);
      console.log(`| mean | ${pct(r.mean.cnn)} | ${pct(r.mean.functionals)} | ${pct(r.mean.combined)} | |`);
      console.log(`\nInner splits (selection criterion), mean over folds: functionals ${pct(r.innerMean.functionals)} %, combined ${pct(r.innerMean.combined)} %`);
      if (opts.json) writeFileSync(opts.json, JSON.stringify(r, null, 2) + '\n');
    });
}
