/**
 * The face stage's cost before and after a change, side by side on a shared, noisy machine: runs
 * bench/face-pipeline-stage.ts alternately in a baseline checkout and in this one (B A B A ...), `--repeats` pairs,
 * each run a fresh process on the same frames, and reports each side's CPU ms per frame (min, median, max; quote the
 * median) and the per-pair ratio new/old. Pairing keeps the comparison fair while the machine's load drifts.
 * The baseline is any checkout of the project with node_modules (e.g. `git archive <commit> | tar -x -C dir` and a
 * node_modules link); its own copy of face-pipeline-stage.ts need not know --out: this one is copied over it.
 * Run: node --import tsx bench/face-stage-ab.ts --baseline DIR [--repeats 5] [--label name] [--out-dir bench/results/face-stage-s9]
 * Writes OUT_DIR/ab.json.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const baseline = opt('--baseline');
if (!baseline) throw new Error('--baseline DIR (a checkout of the commit to compare with) is required');
const repeats = Number(opt('--repeats') ?? 5);
const outDir = resolve(opt('--out-dir') ?? 'bench/results/face-stage-s9');
const here = resolve(new URL('..', import.meta.url).pathname);
const bench = join(here, 'bench/face-pipeline-stage.ts');
copyFileSync(bench, join(baseline, 'bench/face-pipeline-stage.ts'));

interface StageRun { cpuMsPerFrame: number; perFrame: { meanMs: number; p50Ms: number }; trackedFramesExcludingDecode: { meanMs: number }; machine: { loadavg1m: number } }
function runStage(root: string, tag: string, i: number): StageRun {
  const out = join(tmpdir(), `face-stage-ab-${process.pid}-${tag}-${i}.json`);
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/face-pipeline-stage.ts', '--out', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(out, 'utf8')) as StageRun;
}

const runs: { old: StageRun[]; new: StageRun[] } = { old: [], new: [] };
for (let i = 0; i < repeats; i++) {
  runs.old.push(runStage(resolve(baseline), 'old', i));
  runs.new.push(runStage(here, 'new', i));
  console.error(`pair ${i + 1}/${repeats}: old ${runs.old[i].cpuMsPerFrame} ms, new ${runs.new[i].cpuMsPerFrame} ms CPU per frame (load ${runs.new[i].machine.loadavg1m})`);
}
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: +s[0].toFixed(2), median: +s[Math.floor(s.length / 2)].toFixed(2), max: +s[s.length - 1].toFixed(2) };
};
const result = {
  bench: 'face-stage-ab',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1), platform: platform(), arch: arch(), node: process.version, loadavg1m: loadavg()[0] },
  label: opt('--label') ?? null,
  baseline: resolve(baseline),
  repeats,
  order: 'old, new alternating (old first in each pair)',
  cpuMsPerFrame: { old: summary(runs.old.map((r) => r.cpuMsPerFrame)), new: summary(runs.new.map((r) => r.cpuMsPerFrame)) },
  ratioNewOverOldPerPair: summary(runs.new.map((r, i) => r.cpuMsPerFrame / runs.old[i].cpuMsPerFrame)),
  wallMeanMsPerFrame: { old: summary(runs.old.map((r) => r.perFrame.meanMs)), new: summary(runs.new.map((r) => r.perFrame.meanMs)) },
  trackedFramesMeanMs: { old: summary(runs.old.map((r) => r.trackedFramesExcludingDecode.meanMs)), new: summary(runs.new.map((r) => r.trackedFramesExcludingDecode.meanMs)) },
  loadavg1mPerRun: { old: runs.old.map((r) => r.machine.loadavg1m), new: runs.new.map((r) => r.machine.loadavg1m) },
  target: { faceStageCpuMsPerFrame: 20 },
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `ab${opt('--label') ? '-' + opt('--label') : ''}.json`), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
