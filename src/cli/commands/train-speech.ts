import type { Command } from 'commander';

/** The shared `train` parent command: found if another module registered it, else created. */
function trainCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'train') ?? program.command('train').description('Train and evaluate models');
}

export function register(program: Command): void {
  trainCommand(program)
    .command('speech')
    .description('Speech emotion model: subject-wise 5-fold CV report, out-of-fold posteriors, export of the shipped model')
    .option('--cv', 'run the 5-fold CV (with inner splits) and write report.json/report.md')
    .option('--export', 'train the default model on all 24 actors and write the ONNX bundle to --out')
    .option('--out <dir>', 'output folder (report, model)', 'models/speech')
    .option('--posteriors <dir>', 'where to write out-of-fold posteriors', 'posteriors/speech')
    .option('--no-posteriors', 'do not write posteriors')
    .option('--epochs <n>', 'training epochs (default: the shipped configuration)')
    .option('--inner <n>', 'subject-wise inner splits for the out-of-fold train posteriors (0 = skip)', '2')
    .option('--folds <ids>', 'comma-separated fold ids for a partial CV (debugging)')
    .option('--seed <n>', 'random seed')
    .action(async (opts: { cv?: boolean; export?: boolean; out: string; posteriors: string | false; epochs?: string; inner: string; folds?: string; seed?: string }) => {
      const [{ trainSpeech }, { SingleBar, Presets }] = await Promise.all([import('../../training/speech/train-speech.js'), import('cli-progress')]);
      const bar = new SingleBar({
        format: '{stage} |{bar}| epoch {epoch}/{epochs} loss {loss} eta {eta_formatted}', hideCursor: true, stream: process.stderr,
        noTTYOutput: true, notTTYSchedule: 15000, // logs and CI get a line every 15 s
      }, Presets.shades_classic);
      let current = '';
      const stop = () => { if (current) { bar.stop(); current = ''; } };
      try {
        await trainSpeech({
          cv: opts.cv === true, exportModel: opts.export === true, out: opts.out,
          posteriorsDir: opts.posteriors === false ? null : opts.posteriors,
          epochs: opts.epochs ? Number(opts.epochs) : undefined, innerSplits: Number(opts.inner),
          folds: opts.folds?.split(',').map(Number), seed: opts.seed ? Number(opts.seed) : undefined,
          command: `emostream train speech ${process.argv.slice(4).join(' ')}`.trim(),
          log: (m) => { stop(); process.stderr.write(m + '\n'); },
          progress: (stage, p) => {
            const total = p.epochs * p.batches;
            if (current !== stage) { stop(); current = stage; bar.start(total, 0, { stage, epoch: 1, epochs: p.epochs, loss: '-' }); }
            bar.update(p.epoch * p.batches + p.batch + 1, { epoch: p.epoch + 1, loss: p.loss.toFixed(3) });
          },
        });
      } finally {
        stop();
      }
    });
}
