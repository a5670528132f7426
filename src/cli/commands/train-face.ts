import type { Command } from 'commander';

/** The shared `train` parent command: found if another module registered it, else created. */
export function trainCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('Train and evaluate models');
}

export function register(program: Command): void {
  trainCommand(program)
    .command('face')
    .description('Static AU face models: paper Table 2 CV report, out-of-fold posteriors, export of the shipped model')
    .option('--cv', 'run the subject-wise 5-fold CV and write report.json/report.md')
    .option('--out <dir>', 'output folder (report, model)', 'models/face')
    .option('--posteriors <dir>', 'where to write the face base models\' out-of-fold posteriors', 'posteriors')
    .option('--no-posteriors', 'do not write posteriors')
    .option('--no-export', 'do not train/export the shipped static model')
    .option('--only <ids>', 'comma-separated model ids for a quick CV (e.g. svc-c1-norm,mlp80-norm)')
    .option('--clips <path>', 'clip-mean AU CSV (default ../shared/ravdess/openface/clip-mean-aus.csv)')
    .option('--seed <n>', 'seed for the MLP initialisation', '0')
    .action(async (opts: { cv?: boolean; out: string; posteriors: string | false; export: boolean; only?: string; clips?: string; seed: string }) => {
      const { trainFace } = await import('../../training/face/train-face.js');
      await trainFace({
        cv: opts.cv === true, out: opts.out, posteriorsDir: opts.posteriors === false ? null : opts.posteriors,
        exportModel: opts.export, only: opts.only?.split(',').map((s) => s.trim()), seed: Number(opts.seed), clipsPath: opts.clips,
        log: (m) => process.stderr.write(m + '\n'),
      });
    });
}
