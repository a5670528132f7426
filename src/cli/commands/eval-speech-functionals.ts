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
    .option('--json <file>', 'write the per-fold result as JSON')
    .action(async (opts: { posteriors: string; seeds: string; hidden?: string; drop?: string; json?: string }) => {
      const { evaluateFunctionalComplement } = await import('../../training/speech/complement-eval.js');
      const { DEFAULT_FUNCTIONAL_CONFIG } = await import('../../training/speech/functional-cv.js');
      const seeds = Number(opts.seeds);
      if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer (got ${opts.seeds})`);
      const hidden = opts.hidden === undefined ? DEFAULT_FUNCTIONAL_CONFIG.model.hidden : Number(opts.hidden);
      if (!(Number.isInteger(hidden) && hidden >= 0)) throw new Error(`--hidden must be a non-negative integer (got ${opts.hidden})`);
      const r = await evaluateFunctionalComplement({
        cnnPosteriorsDir: opts.posteriors, model: { ...DEFAULT_FUNCTIONAL_CONFIG.model, hidden }, seeds, innerSplits: 2,
        trainHopFrames: DEFAULT_FUNCTIONAL_CONFIG.trainHopFrames, evalHopFrames: 50, windowFrames: 300,
        drop: opts.drop?.split(','), log: (m) => process.stderr.write(m + '\n'),
      });
      const pct = (x: number) => (x * 100).toFixed(2);
      console.log('| fold | CNN % | functionals % | combined % | CNN weight (inner) |\n|---|---|---|---|---|');
      for (const f of r.folds) console.log(`| ${f.fold} | ${pct(f.cnn)} | ${pct(f.functionals)} | ${pct(f.combined)} | ${f.weightCnn} |`);
      console.log(`| mean | ${pct(r.mean.cnn)} | ${pct(r.mean.functionals)} | ${pct(r.mean.combined)} | |`);
      if (opts.json) writeFileSync(opts.json, JSON.stringify(r, null, 2) + '\n');
    });
}
