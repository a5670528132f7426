/**
 * Clone to first result in the browser, following only the README (issue 23's first-run target: under 2 minutes, no
 * warning lines). Times what a newcomer does: `git clone`, the README's first command
 * (`ONNXRUNTIME_NODE_INSTALL=skip npm ci && npm start`, with an EMPTY npm cache unless --warm-cache, as on a fresh
 * machine), opening the printed URL in Chromium, pressing Start (fake microphone and camera from the committed
 * sample clip) and the first result on the page. Counts warning lines printed by npm and by the server.
 * Writes JSON with the machine's details.
 *
 * Run: node --import tsx bench/first-run.ts [--repo .] [--port 18080] [--warm-cache] [--busy-core] [--out bench/results/first-run.json]
 * (--busy-core keeps one core at 100 % with `sh -c 'while :; do :; done'` for the whole run: issue 23's loaded machine).
 * Needs Debian's chromium and ffmpeg (the fake capture files are made before the clock starts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, hasChromium } from '../tests/browser/harness.js';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: '.' },
    port: { type: 'string', default: '18080' },
    'warm-cache': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/first-run.json' },
    keep: { type: 'boolean', default: false },
    'busy-core': { type: 'boolean', default: false },
  },
});
if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set EMOSTREAM_CHROMIUM)`);
const repo = resolve(args.repo!);
const port = Number(args.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a TCP port (got ${args.port})`);

const work = mkdtempSync(join(tmpdir(), 'emostream-first-run-'));
const checkout = join(work, 'emostream');
const sample = join(repo, 'samples', 'cremad-1001-angry.mp4');

// Fake capture devices from the README's sample clip, prepared before the clock starts (a user has a real mic/camera).
const wav = join(work, 'mic.wav');
const y4m = join(work, 'cam.y4m');
execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', sample, '-ac', '1', '-ar', '48000', '-c:a', 'pcm_s16le', wav]);
execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', sample, '-vf', 'fps=15,scale=320:240', '-pix_fmt', 'yuv420p', y4m]);

/** Lines that a reader would take for a warning: npm's `npm warn`, node's `Warning:`, pino level >= 40 (warn). */
function warningLines(text: string): string[] {
  return text.split('\n').filter((line) => /npm warn|\bWARN\b|Warning:|"level":\s*(4|5|6)0\b/i.test(line));
}

function run(cmd: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok({ out, ms: performance.now() - t0 }) : fail(new Error(`${cmd} ${argv.join(' ')} exited ${code}:\n${out.slice(-2000)}`))));
  });
}

const env: NodeJS.ProcessEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', EMOSTREAM_PORT: String(port) };
if (!args['warm-cache']) env.npm_config_cache = join(work, 'npm-cache');

let server: ChildProcess | null = null;
const busy = args['busy-core'] ? spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }) : null;
const loadavgAtStart = loadavg();
const phasesMs: Record<string, number> = {};
const warnings: string[] = [];
const t0 = performance.now();
try {
  phasesMs.clone = (await run('git', ['clone', '-q', repo, checkout], work, env)).ms;
  const install = await run('npm', ['ci'], checkout, env);
  phasesMs.npmCi = install.ms;
  warnings.push(...warningLines(install.out).map((l) => `npm ci: ${l}`));

  // `npm start`, as the README says; the server prints the URL to open when it is listening.
  const tStart = performance.now();
  server = spawn('npm', ['start'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no listening line within 60 s:\n${serverOut.slice(-2000)}`)), 60_000);
    const onData = (d: Buffer): void => {
      serverOut += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(serverOut);
      if (m) { clearTimeout(timer); ok(m[1]); }
    };
    server!.stdout!.on('data', onData);
    server!.stderr!.on('data', onData);
    server!.on('exit', (code) => fail(new Error(`npm start exited ${code}:\n${serverOut.slice(-2000)}`)));
  });
  phasesMs.serverReady = performance.now() - tStart;

  const tPage = performance.now();
  const ctx = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, `--use-file-for-fake-video-capture=${y4m}`,
      '--allow-loopback-in-peer-connection'],
  });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.click('#start');
  await page.waitForFunction(() => (window as unknown as { emostream: { results: unknown[] } }).emostream.results.length > 0, undefined, { timeout: 60_000 });
  phasesMs.pageToFirstResult = performance.now() - tPage;
  const total = performance.now() - t0;
  const pageErrors = await page.evaluate(() => (window as unknown as { emostream: { errors: { message: string }[] } }).emostream.errors.map((e) => e.message));
  await ctx.close();
  server.kill('SIGTERM');
  await new Promise((ok) => server!.once('exit', ok));
  warnings.push(...warningLines(serverOut).map((l) => `server: ${l}`));

  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: checkout }).toString().trim();
  const report = {
    what: 'git clone -> ONNXRUNTIME_NODE_INSTALL=skip npm ci -> npm start -> open the printed URL -> Start -> first result on the page',
    commit, npmCache: args['warm-cache'] ? 'warm (this machine\'s cache)' : 'empty (a fresh machine: every package from the registry)',
    totalS: Math.round(total / 100) / 10,
    phasesS: Object.fromEntries(Object.entries(phasesMs).map(([k, v]) => [k, Math.round(v / 100) / 10])),
    targetS: 120, met: total <= 120_000 && warnings.length === 0,
    warnings, pageErrors,
    busyCore: busy !== null,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), loadavgAtStart, loadavgAtEnd: loadavg(), node: process.version },
    date: new Date().toISOString(),
  };
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
  console.log(`clone -> first result in the browser: ${report.totalS} s (${Object.entries(report.phasesS).map(([k, v]) => `${k} ${v} s`).join(', ')}); `
    + `${warnings.length} warning line(s); target 120 s: ${report.met ? 'met' : 'NOT met'} -> ${args.out}`);
  for (const w of warnings) console.log(`  ${w}`);
} finally {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  busy?.kill('SIGKILL');
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
