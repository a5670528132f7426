/**
 * Browser end-to-end latency over WebRTC, measured by the web client itself: from the capture of a window's last
 * audio sample in the browser (its own RTCP sender-report clock; packet arrival before the first report) to the
 * result painted on the page (after the requestAnimationFrame that draws it). Debian's headless Chromium with fake
 * devices fed a RAVDESS clip and a MEAD face clip (../shared; synthetic media otherwise). Target: p95 <= 250 ms.
 *
 *   node --import tsx bench/webrtc-latency.ts --seconds 30 --camera on
 *   node --import tsx bench/webrtc-latency.ts --seconds 30 --camera none
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { createEmoServer } from '../src/server/app.js';
import { hasChromium, launchChromium, makeFakeMedia, percentile, runPage } from '../tests/browser/harness.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    camera: { type: 'string', default: 'on' },
    transport: { type: 'string', default: 'webrtc' },
    warmup: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});

if (!hasChromium()) {
  console.error('needs Chromium at /usr/bin/chromium (apt-get install chromium)');
  process.exit(2);
}
const seconds = Number(args.seconds);
const warmupS = Number(args.warmup);
const server = await createEmoServer({ overrides: { server: { port: 0, host: '127.0.0.1' }, log: { level: 'error' } } });
const port = await server.listen();
const media = await makeFakeMedia();
const ctx = await launchChromium(media);
const query = `transport=${args.transport}${args.camera === 'none' ? '&camera=none' : ''}`;
const run = await runPage(ctx, `http://127.0.0.1:${port}`, query, seconds);
await ctx.close();
const models = server.models.summary();
await server.close();
media.cleanup();

const stat = (v: number[]) => (v.length === 0 ? null : {
  n: v.length,
  p50: Math.round(percentile(v, 0.5) * 10) / 10,
  p95: Math.round(percentile(v, 0.95) * 10) / 10,
  p99: Math.round(percentile(v, 0.99) * 10) / 10,
  max: Math.round(Math.max(...v) * 10) / 10,
});
const all = run.latencies.map((l) => l.ms);
const steady = run.latencies.filter((l) => {
  const r = run.results.find((x) => x.hop === l.hop);
  return r ? r.windowEndUs / 1e6 >= warmupS : true;
});
const report = {
  bench: 'webrtc-latency',
  date: new Date().toISOString(),
  command: `node --import tsx bench/webrtc-latency.ts --seconds ${seconds} --camera ${args.camera} --transport ${args.transport}`,
  transport: run.transport,
  camera: args.camera !== 'none',
  media: { audio: media.audioSource, video: args.camera !== 'none' ? media.videoSource : null },
  definition: 'capture of the window\'s last audio sample in the browser -> result painted on the page (page timestamps: performance.timeOrigin + now() after the rAF that draws it)',
  targetP95Ms: 250,
  results: run.results.length,
  latencyMs: {
    all: stat(all),
    afterWarmup: { warmupS, ...stat(steady.map((l) => l.ms)) },
    rtcpSrBasisOnly: stat(run.latencies.filter((l) => l.basis === 'rtcp-sr').map((l) => l.ms)),
    arrivalBasisOnly: stat(run.latencies.filter((l) => l.basis === 'arrival').map((l) => l.ms)),
    /** Capture -> message received by the page (before it is drawn). */
    received: stat(run.latencies.map((l) => (l as { receivedMs?: number }).receivedMs).filter((x): x is number => typeof x === 'number')),
  },
  serverLatencyMs: stat(run.results.map((r) => (r as unknown as { latency: { totalMs: number } }).latency.totalMs)),
  webrtcStats: run.stats,
  errors: run.errors,
  models: models.map((m) => ({ name: m.name, modality: m.modality, available: m.available })),
  note: 'Shared 2-core machine: the browser (encoding), the server and other jobs share the cores.',
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), platform: platform(), release: release(), arch: arch(), node: process.version, loadavg: loadavg() },
};
const out = args.out ?? `bench/results/webrtc-latency-${args.transport === 'webrtc' ? '' : `${args.transport}-`}${args.camera === 'none' ? 'audio' : 'av'}.json`;
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report.latencyMs, null, 2));
console.log(`wrote ${out}`);
