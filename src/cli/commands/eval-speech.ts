import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';

/** The shared `eval` parent command: found if another module registered it, else created. */
function evalCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('Evaluate models on labelled data');
}

const positiveInt = (name: string, v: string): number => {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--${name} must be a positive integer (got ${v})`);
  return n;
};
const unit = (name: string, v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new Error(`--${name} must be between 0 and 1 (got ${v})`);
  return n;
};

export function register(program: Command): void {
  evalCommand(program)
    .command('speech')
    .description('Speech model evaluations beyond RAVDESS: --cross-corpus = leave-one-corpus-out (RAVDESS + ../shared/extra/speech/*) of the functionals MLP, on the emotions both sides share, chance printed')
    .option('--cross-corpus', 'leave-one-corpus-out evaluation')
    .option('--ravdess-folds', 'the paper\'s RAVDESS folds, functionals MLP trained on the fold\'s actors alone and with every clip of the extra corpora added')
    .option('--folds <list>', 'with --ravdess-folds: only these folds (comma-separated, 0-4)')
    .option('--augment-ablation', 'one RAVDESS fold (--folds, default 0), functionals MLP trained clean / + one copy per clip with each waveform augmentation alone / with noise or babble / with every augmentation; scored clean and at 10 dB pink noise')
    .option('--arms <list>', 'with --augment-ablation: only these arms (comma-separated: clean,noise,babble,gain,speed,reverb,telephone,opus,noise+babble,all)')
    .option('--robustness', 'the shipped model on RAVDESS clips: clean, pink noise 20/10/5 dB, Opus 16 kbit/s, VAD gate on (trained-on clips: degradation only)')
    .option('--clips-per-actor <n>', 'with --robustness: clips per actor', '4')
    .option('--min-speech-ratio <r>', 'with --robustness: the VAD gate', '0.3')
    .option('--held-out <names>', 'corpora to hold out in turn (comma-separated)', 'ased,urdu,ravdess')
    .option('--seeds <k>', 'functionals-model seed ensemble size', '3')
    .option('--epochs <n>', 'epochs per model (the shipped recipe: 30)', '30')
    .option('--corpus-power <p>', 'corpus balance: total weight ~ clips^p (1 = as sampled, 0 = equal)', '0.5')
    .option('--speaker-power <p>', 'speaker balance within a corpus: total weight ~ clips^p', '0.5')
    .option('--augment <list>', 'with --cross-corpus: one waveform-augmented copy of each training clip (none or noise,babble,gain,speed,reverb,opus,telephone)', 'none')
    .option('--json <file>', 'write the results as JSON')
    .action(async (opts: { crossCorpus?: boolean; augmentAblation?: boolean; ravdessFolds?: boolean; folds?: string; robustness?: boolean; clipsPerActor: string; minSpeechRatio: string; heldOut: string; seeds: string; epochs: string; corpusPower: string; speakerPower: string; augment: string; json?: string; arms?: string }) => {
      if (opts.augmentAblation) {
        const { augmentAblation, ABLATION_ARMS } = await import('../../training/speech/augment-ablation.js');
        type AblationArm = typeof ABLATION_ARMS[number];
        const { loadFolds } = await import('../../training/ravdess.js');
        const fold = Number(opts.folds ?? '0');
        if (!Number.isInteger(fold) || fold < 0 || fold > 4) throw new Error(`--folds must be one fold, 0-4, with --augment-ablation (got ${opts.folds})`);
        const arms = opts.arms?.split(',').map((a) => a.trim().replace('+', ','));
        const unknown = arms?.filter((a) => !(ABLATION_ARMS as readonly string[]).includes(a));
        if (unknown?.length) throw new Error(`--arms: unknown arm(s) ${unknown.join(', ')} (known: ${ABLATION_ARMS.map((a) => a.replace(',', '+')).join(', ')})`);
        const rows = await augmentAblation({ validationActors: loadFolds()[fold], seeds: positiveInt('seeds', opts.seeds), epochs: positiveInt('epochs', opts.epochs), arms: arms as AblationArm[] | undefined, log: (m) => process.stderr.write(m + '\n') });
        console.log(`| training data (fold ${fold}) | clean % | pink noise 10 dB % |\n|---|---|---|`);
        for (const r of rows) console.log(`| ${r.arm} (${r.trainClips} clips) | ${(100 * r.clean).toFixed(2)} | ${(100 * r.noise10).toFixed(2)} |`);
        if (opts.json) writeFileSync(opts.json, JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (opts.robustness) {
        const { robustnessEval } = await import('../../training/speech/robustness-eval.js');
        const r = await robustnessEval({ clipsPerActor: positiveInt('clips-per-actor', opts.clipsPerActor), minSpeechRatio: unit('min-speech-ratio', opts.minSpeechRatio), log: (m) => process.stderr.write(m + '\n') });
        const clean = r.rows.find((x) => x.condition === 'clean')!.accuracy;
        console.log(`| condition | accuracy % (${r.clips} trained-on clips) | change vs clean, points | clips without a posterior |\n|---|---|---|---|`);
        for (const x of r.rows) console.log(`| ${x.condition} | ${(100 * x.accuracy).toFixed(2)} | ${(100 * (x.accuracy - clean)).toFixed(2)} | ${x.clipsWithoutPosterior} |`);
        if (opts.json) writeFileSync(opts.json, JSON.stringify(r, null, 2) + '\n');
        return;
      }
      if (!opts.crossCorpus && !opts.ravdessFolds) throw new Error('emostream eval speech: say which evaluation (--cross-corpus, --ravdess-folds or --robustness)');
      const { crossCorpusEval, ravdessFoldsWithExtra } = await import('../../training/speech/cross-corpus.js');
      const common = {
        heldOut: opts.heldOut.split(',').map((s) => s.trim()).filter(Boolean), seeds: positiveInt('seeds', opts.seeds), epochs: positiveInt('epochs', opts.epochs),
        balance: { corpusPower: unit('corpus-power', opts.corpusPower), speakerPower: unit('speaker-power', opts.speakerPower) },
        speakerPriorFrames: 300, speakerPriorPitchFrames: 150, speakerPriorWindows: 20,
        augment: (await import('../../training/speech/multi-corpus-data.js')).parseAugment(opts.augment),
        log: (m: string) => process.stderr.write(m + '\n'),
      };
      const pct = (x: number) => (100 * x).toFixed(2);
      if (opts.ravdessFolds) {
        const { loadFolds } = await import('../../training/ravdess.js');
        const only = opts.folds?.split(',').map(Number);
        const folds = await ravdessFoldsWithExtra({ ...common, folds: loadFolds(), onlyFolds: only });
        console.log('| fold | RAVDESS only % | + extra corpora % |\n|---|---|---|');
        for (const f of folds) console.log(`| ${f.fold} | ${pct(f.ravdessOnly)} | ${pct(f.withExtra)} |`);
        const mean = (k: 'ravdessOnly' | 'withExtra') => folds.reduce((s, f) => s + f[k], 0) / folds.length;
        console.log(`| mean | ${pct(mean('ravdessOnly'))} | ${pct(mean('withExtra'))} |`);
        if (opts.json) writeFileSync(opts.json, JSON.stringify(folds, null, 2) + '\n');
        return;
      }
      const results = await crossCorpusEval(common);
      console.log('| held out | trained on | emotions | clips (speakers) | accuracy % | UAR % | chance % | majority % |\n|---|---|---|---|---|---|---|---|');
      for (const r of results) console.log(`| ${r.heldOut} | ${r.trainedOn.join(' + ')} | ${r.emotions.join(', ')} | ${r.clips} (${r.speakers}) | ${pct(r.accuracy)} | ${pct(r.uar)} | ${pct(r.chance)} | ${pct(r.majority)} |`);
      for (const r of results) {
        console.log(`\n${r.heldOut}: recall ${Object.entries(r.recall).map(([e, v]) => `${e} ${pct(v)}`).join(', ')}`);
        console.log(`confusion (rows true, columns predicted; ${r.emotions.join(', ')}):\n${r.confusion.map((row) => row.join('\t')).join('\n')}`);
      }
      if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2) + '\n');
    });
}
