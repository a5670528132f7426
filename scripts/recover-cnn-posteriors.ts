// Recovers the CNN half's out-of-fold posteriors (CNN alone) of a shipped speech CV whose posterior files hold only
// the CNN + functionals combination: given the functionals model's own posteriors of the same run (reproduced
// bit for bit by `emostream eval speech-functionals --model-seed 1007 --posteriors-out <dir>`, the seeds cv.ts uses)
// and the per-fold CNN weights of its report.json, inverts the combination (recoverCnnPosterior).
// Usage: node --import tsx scripts/recover-cnn-posteriors.ts <combined dir> <functionals dir> <report.json> <out dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPosteriorsCsv, writePosteriorsCsv } from '../src/training/posteriors.js';
import { recoverCnnPosterior } from '../src/training/speech/combine.js';

const [combinedDir, functionalsDir, reportPath, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: recover-cnn-posteriors.ts <combined dir> <functionals dir> <report.json> <out dir>');
const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { folds: { fold: number; weightCnn: number }[] };
for (const { fold, weightCnn } of report.folds) {
  for (const file of ['test.csv', 'train.csv']) {
    const other = new Map(readPosteriorsCsv(join(functionalsDir, `fold${fold}`, file)).map((r) => [r.clipId, r.probs]));
    const rows = readPosteriorsCsv(join(combinedDir, `fold${fold}`, file)).map((r) => {
      const f = other.get(r.clipId);
      if (!f) throw new Error(`fold ${fold} ${file}: no functionals posterior for ${r.clipId}`);
      return { clipId: r.clipId, probs: recoverCnnPosterior(r.probs, f, weightCnn) };
    });
    writePosteriorsCsv(join(outDir, `fold${fold}`, file), rows);
    process.stderr.write(`fold ${fold} ${file}: ${rows.length} clips (w = ${weightCnn})\n`);
  }
}
