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
    .option('--seed <n>', 'random seed (ensemble member m uses seed + m)')
    .option('--seeds <k>', 'networks per training: a seed ensemble whose posterior is the members\' mean (outer, inner and shipped alike)')
    .option('--corpora <names>', 'corpora the functionals half trains on: ravdess plus folders of ../shared/extra/speech (e.g. ravdess,ased,urdu); extra corpora only add training data, the RAVDESS folds stay as they are', 'ravdess')
    .option('--augment <list>', `waveform-augmented copy of each training clip for the functionals half: none or a comma-separated list of noise,babble,gain,speed,reverb,opus,telephone`, 'none')
    .option('--cnn-from <dir>', 'with --corpora/--augment: bundle whose CNN members are reused (the CNN half is not retrained)', 'models/speech')
    .option('--cnn-posteriors <dir>', 'with --corpora/--augment --cv: the CNN half\'s out-of-fold posteriors, CNN alone (fold<k>/{test,train}.csv)', 'posteriors/speech-cnn')
    .option('--robustness', 'with --cv: the functionals half through the --corpora/--augment path (CNN reused), also scoring each fold\'s functionals models on the validation clips with pink noise 20/10/5 dB and Opus 16 kbit/s')
    .option('--jobs <n>', 'trainings run in parallel, one worker thread (one core) each; results do not depend on it (default: number of cores)')
    .action(async (opts: { cv?: boolean; export?: boolean; out: string; posteriors: string | false; epochs?: string; inner: string; folds?: string; seed?: string; seeds?: string; jobs?: string; corpora: string; augment: string; cnnFrom: string; cnnPosteriors: string; robustness?: boolean }) => {
      const [{ trainSpeech }, { SingleBar, Presets }] = await Promise.all([import('../../training/speech/train-speech.js'), import('cli-progress')]);
      const bar = new SingleBar({
        format: 'speech |{bar}| {percentage}% {tasks} tasks eta {eta_formatted} | {running}', hideCursor: true, stream: process.stderr,
        noTTYOutput: true, notTTYSchedule: 30000, // logs and CI get a line every 30 s
        etaBuffer: 200,
      }, Presets.shades_classic);
      let active = false;
      const stop = () => { if (active) { bar.stop(); active = false; } };
      const int = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n)) throw new Error(`${name} must be an integer (got '${v}')`);
        return n;
      };
      const { parseAugment, parseCorpora } = await import('../../training/speech/multi-corpus-data.js');
      const corpora = parseCorpora(opts.corpora);
      const augment = parseAugment(opts.augment);
      const command = `emostream train speech ${process.argv.slice(4).join(' ')}`.trim();
      // --robustness needs the fold models of the functionals half, which only this path scores (RAVDESS alone too).
      if (corpora.length > 1 || augment || opts.robustness === true) {
        const { trainSpeechMulti } = await import('../../training/speech/train-speech-multi.js');
        if (opts.epochs !== undefined || opts.jobs !== undefined || opts.seeds !== undefined) throw new Error('--epochs, --seeds and --jobs set the CNN half, which --corpora/--augment reuse as it is (the functionals half keeps the shipped recipe: 3 seeds)');
        await trainSpeechMulti({
          cv: opts.cv === true, exportModel: opts.export === true, out: opts.out, posteriorsDir: opts.posteriors === false ? null : opts.posteriors,
          corpora, augment, cnnFrom: opts.cnnFrom, cnnPosteriorsDir: opts.cnnPosteriors, innerSplits: int(opts.inner, '--inner') ?? 2,
          folds: opts.folds?.split(',').map(Number), seed: int(opts.seed, '--seed') ?? 7,
          robustness: opts.robustness === true, command, log: (m) => process.stderr.write(m + '\n'),
        });
        return;
      }
      try {
        await trainSpeech({
          cv: opts.cv === true, exportModel: opts.export === true, out: opts.out,
          posteriorsDir: opts.posteriors === false ? null : opts.posteriors,
          epochs: int(opts.epochs, '--epochs'), innerSplits: int(opts.inner, '--inner') ?? 2,
          folds: opts.folds?.split(',').map(Number), seed: int(opts.seed, '--seed'),
          seeds: int(opts.seeds, '--seeds'), jobs: int(opts.jobs, '--jobs'),
          command,
          log: (m) => { stop(); process.stderr.write(m + '\n'); },
          progress: (p) => {
            const payload = { tasks: `${p.tasksDone}/${p.tasks}`, running: p.running.join('; ') || '-' };
            if (!active) { active = true; bar.start(p.totalSteps, p.doneSteps, payload); }
            bar.update(p.doneSteps, payload);
          },
        });
      } finally {
        stop();
      }
    });
}
