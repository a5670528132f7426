import type { EmotionResult } from '../../src/protocol/v1/messages.js';
import { EMOTIONS } from '../../src/protocol/labels.js';

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** One line of the live timeline: window end, fused label, top-3 probabilities, per-modality labels, latency. */
export function formatResult(r: EmotionResult, e2eMs: number | null, originUs = 0): string {
  const t = ((r.windowEndUs - originUs) / 1e6).toFixed(2).padStart(7);
  const top = (p: number[] | undefined) => (p ? [...p.keys()].sort((a, b) => p[b] - p[a]).slice(0, 3).map((k) => `${EMOTIONS[k]} ${p[k].toFixed(2)}`).join('  ') : '-');
  const label = r.fused ? r.fused.label.padEnd(9) : 'no model ';
  const mod = (name: string, p: { probs: number[] } | null) => (p ? `${name}:${EMOTIONS[p.probs.indexOf(Math.max(...p.probs))]}` : `${name}:-`);
  const lat = `${e2eMs !== null ? `e2e ${e2eMs.toFixed(1)} ms` : 'e2e -'} srv ${r.latency.totalMs.toFixed(1)} ms`;
  const drop = r.droppedWindows > 0 ? `  dropped ${r.droppedWindows}` : '';
  const faces = r.faces ? ` faces:${r.faces.count}` : '';
  const final = r.final ? (r.repeatOfHop !== undefined ? `  (final, repeats hop ${r.repeatOfHop})` : '  (final)') : '';
  return `${t}s  ${label}  ${top(r.fused?.probs).padEnd(44)}  ${mod('voice', r.speech)} ${mod('face', r.face)}${faces}  ${lat}${final}${drop}`;
}

export interface Summary {
  results: number;
  droppedWindows: number;
  meanFused: Record<string, number> | null;
  labelShare: Record<string, number>;
  e2eMs: { p50: number | null; p95: number | null; max: number | null };
  serverMs: { p50: number | null; p95: number | null };
}

export function summarize(results: EmotionResult[], e2e: number[]): Summary {
  // A final result that repeats the last window (repeatOfHop) would count that window twice.
  const fused = results.filter((r) => r.fused && r.repeatOfHop === undefined);
  const mean = fused.length ? EMOTIONS.map((_, k) => fused.reduce((s, r) => s + r.fused!.probs[k], 0) / fused.length) : null;
  const share: Record<string, number> = {};
  for (const r of fused) share[r.fused!.label] = (share[r.fused!.label] ?? 0) + 1 / fused.length;
  const e = [...e2e].sort((a, b) => a - b);
  const s = results.map((r) => r.latency.totalMs).sort((a, b) => a - b);
  return {
    results: results.length,
    droppedWindows: results.length ? results[results.length - 1].droppedWindows : 0,
    meanFused: mean ? Object.fromEntries(EMOTIONS.map((l, k) => [l, Number(mean[k].toFixed(4))])) : null,
    labelShare: Object.fromEntries(Object.entries(share).map(([k, v]) => [k, Number(v.toFixed(3))])),
    e2eMs: { p50: percentile(e, 50), p95: percentile(e, 95), max: e.length ? e[e.length - 1] : null },
    serverMs: { p50: percentile(s, 50), p95: percentile(s, 95) },
  };
}

export function formatSummary(s: Summary): string {
  const mean = s.meanFused ? Object.entries(s.meanFused).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') : 'no posteriors (no model available)';
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  return [
    `results: ${s.results}, dropped windows: ${s.droppedWindows}`,
    `mean fused posterior: ${mean}`,
    `label share: ${Object.entries(s.labelShare).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ') || '-'}`,
    `latency end-to-end p50 ${f(s.e2eMs.p50)} ms, p95 ${f(s.e2eMs.p95)} ms, max ${f(s.e2eMs.max)} ms; server p50 ${f(s.serverMs.p50)} ms, p95 ${f(s.serverMs.p95)} ms`,
  ].join('\n');
}
