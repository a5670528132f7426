import type { Command } from 'commander';
import { trainCommand } from './train-face.js';

export function register(program: Command): void {
  trainCommand(program)
    .command('fusion')
    .description('Late fusion of base-model posteriors: subject-wise CV report and the shipped per-modality-subset heads')
    .requiredOption('--posteriors <dir>', 'folder of <model>/fold<k>/{train,test}.csv')
    .option('--cv', 'run the subject-wise CV and write report.json/report.md')
    .option('--models <names>', 'comma-separated base models (sub-folders of --posteriors); default: all')
    .option('--out <dir>', 'output folder', 'models/fusion')
    .option('--no-ship', 'do not fit/write fusion.json')
    .option('--c <value>', 'inverse L2 strength (scikit-learn C)', '1')
    .option('--features <kind>', "auto | posteriors (the paper) | log-posteriors (auto: log when every score is a probability)", 'auto')
    .action(async (opts: { posteriors: string; cv?: boolean; models?: string; out: string; ship: boolean; c: string; features: string }) => {
      const { trainFusion } = await import('../../training/fusion/train-fusion.js');
      const c = Number(opts.c);
      if (!(c > 0)) throw new Error(`--c must be a positive number, got ${opts.c}`);
      if (!['auto', 'posteriors', 'log-posteriors'].includes(opts.features)) throw new Error(`--features must be auto, posteriors or log-posteriors, got ${opts.features}`);
      await trainFusion({
        posteriorsDir: opts.posteriors, models: opts.models?.split(',').map((s) => s.trim()).filter(Boolean), out: opts.out,
        cv: opts.cv === true, ship: opts.ship, c, features: opts.features as 'auto' | 'posteriors' | 'log-posteriors', log: (m) => process.stderr.write(m + '\n'),
      });
    });
}
