import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';

/** The shared `eval` parent command: found if another module registered it, else created. */
export function evalCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('Evaluate models on labelled data');
}

export function register(program: Command): void {
  evalCommand(program)
    .command('face <dir>')
    .description('Run every labelled clip (CREMA-D / MEAD names) of a folder through the server\'s face path; per-clip table and confusion matrices')
    .option('--fps <n>', 'analysis frame rate', '10')
    .option('--face-model <dir>', 'AU face model folder', 'models/face')
    .option('--json <file>', 'also write the full report (per-clip AUs and posteriors) as JSON')
    .action(async (dir: string, opts: { fps: string; faceModel: string; json?: string }) => {
      const fps = Number(opts.fps);
      if (!(fps > 0 && fps <= 60)) throw new Error(`--fps must be in (0, 60], got ${opts.fps}`);
      const { loadVideoAnalyzer } = await import('../../face/index.js');
      const { evaluateFaceClips, formatFaceEval } = await import('../../training/face-eval/eval-clips.js');
      const analyzer = await loadVideoAnalyzer();
      if (!analyzer.status().available) throw new Error(`face pipeline unavailable: ${analyzer.status().error}`);
      let faceModel = null;
      try {
        const { loadFaceModel } = await import('../../models/face/index.js');
        const { createInProcessRunner } = await import('../../models/onnx-runner-inprocess.js');
        faceModel = await loadFaceModel({ dir: opts.faceModel, runnerFactory: (p: string) => createInProcessRunner(p) });
      } catch (err) {
        process.stderr.write(`AU face model not loadable (${(err as Error).message}); evaluating the expression net only\n`);
      }
      try {
        const report = await evaluateFaceClips({ dir, fps, analyzer, faceModel, log: (l) => process.stderr.write(l + '\n') });
        process.stdout.write(formatFaceEval(report) + '\n');
        if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 1) + '\n');
      } finally {
        await faceModel?.dispose();
        await analyzer.dispose();
      }
    });
}
