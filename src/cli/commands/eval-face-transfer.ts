import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { evalCommand } from './eval-face.js';


export function register(program: Command): void {
  evalCommand(program)
    .command('face-transfer <dir>')
    .description('Leave-one-subject-out comparison of the face posteriors (expression net, AU model, FACS rules, log-linear pools) on every labelled clip of a folder')
    .option('--shared <dir>', 'the shared data folder (for OpenFace\'s RAVDESS AU means)', '../shared')
    .option('--face-model <dir>', 'AU face model folder', 'models/face')
    .option('--cache <file>', 'per-frame landmarks and expression posteriors (built on first use)', join(tmpdir(), 'emostream-face-frames-10fps.json'))
    .option('--out <file>', 'markdown report', 'models/face/transfer-report.md')
    .action(async (dir: string, opts: { shared: string; faceModel: string; cache: string; out: string }) => {
      const { runTransferReport } = await import('../../training/face-transfer/report.js');
      const md = await runTransferReport({ dir, shared: resolve(opts.shared), faceModelDir: opts.faceModel, cachePath: opts.cache, log: (l) => process.stderr.write(l + '\n') });
      mkdirSync(dirname(opts.out), { recursive: true });
      writeFileSync(opts.out, md);
      process.stdout.write(md);
    });
}
