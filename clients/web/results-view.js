/* global document */
// Shows one result at a time in plain words: the current emotion (the smoothed label when the server sends one),
// whether a voice and a face are present, the three sets of bars, how often results come and how late they are.
import { COLORS } from './chart.js';

export const LABELS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
/** Latency figures skip the first seconds: the start-up burst (connecting, loading) is not the steady delay. */
export const LATENCY_WARMUP_MS = 5000;

const $ = (id) => document.getElementById(id);

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
}

function buildBars(id, caption) {
  const root = $(id);
  root.innerHTML = '';
  LABELS.forEach((l, i) => {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = `<span class="name">${l}</span><span class="track" role="meter" aria-label="${caption}: ${l}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" aria-valuetext="none"><span class="fill" style="background:${COLORS[i]}"></span></span><span class="v">–</span>`;
    root.append(row);
  });
}

/** Fills the bars of `id` from `probs`, or empties them and says `emptyText` (never a stale value). */
function setBars(id, probs, emptyText) {
  const root = $(id);
  root.dataset.empty = probs ? '' : emptyText;
  root.classList.toggle('empty', !probs);
  const rows = root.children;
  for (let i = 0; i < LABELS.length; i++) {
    const p = probs ? probs[i] : null;
    const track = rows[i].children[1];
    const pct = p === null ? 0 : p * 100;
    track.firstElementChild.style.width = `${pct.toFixed(1)}%`;
    track.setAttribute('aria-valuenow', pct.toFixed(0));
    track.setAttribute('aria-valuetext', p === null ? emptyText : `${pct.toFixed(0)} percent`);
    rows[i].children[2].textContent = p === null ? '–' : `${pct.toFixed(0)}%`;
  }
}

function setText(id, text) {
  const el = $(id);
  // Only real changes touch the DOM, so a live region speaks when the label changes, not on every result.
  if (el.textContent !== text) el.textContent = text;
}

export class ResultsView {
  constructor() {
    buildBars('bars-speech', 'voice');
    buildBars('bars-face', 'face');
    buildBars('bars-fused', 'combined');
    this.reset();
  }

  reset() {
    this.count = 0;
    this.firstLatencyAt = null;
    this.steadyLatencies = [];
    setText('current-label', '–');
    setText('current-note', 'Start or follow a session to see results.');
    setText('instant-label', '');
    setText('voice-state', '–');
    setText('face-state', '–');
    setText('latency', '–');
    setText('latency-pct', '–');
    setText('count', '0');
    setBars('bars-speech', null, 'no result yet');
    setBars('bars-face', null, 'no result yet');
    setBars('bars-fused', null, 'no result yet');
  }

  /** From `welcome` or `subscribed`: how often results come and how much each one covers. */
  setTiming({ windowMs, hopMs }) {
    if (!windowMs || !hopMs) return;
    const s = (ms) => `${Number((ms / 1000).toFixed(2))} s`;
    setText('cadence', `every ${s(hopMs)}, each covering the last ${s(windowMs)}`);
  }

  show(msg) {
    this.count++;
    setText('count', String(this.count));
    const smoothed = msg.smoothed && msg.smoothed.label ? msg.smoothed : null;
    const label = smoothed?.label ?? msg.fused?.label ?? null;
    const probs = smoothed?.probs ?? msg.fused?.probs ?? null;
    setText('current-label', label ?? 'no signal');
    if (label && probs) {
      const pct = Math.round(probs[LABELS.indexOf(label)] * 100);
      setText('current-note', smoothed
        ? `${pct}% confidence, steadied over the last few seconds.`
        : `${pct}% confidence, from the latest result only (it can change with every update).`);
    } else {
      setText('current-note', 'Neither a voice nor a face in the latest result.');
    }
    setText('instant-label', smoothed && msg.fused ? `Latest result alone: ${msg.fused.label}` : '');

    const noVoice = msg.voice?.active === false || msg.speech === null;
    const noFace = msg.face === null || msg.faces?.count === 0;
    setText('voice-state', noVoice ? 'no voice' : 'voice heard');
    setText('face-state', noFace ? 'no face' : msg.faces && msg.faces.count > 1 ? `${msg.faces.count} faces` : 'face seen');
    setBars('bars-speech', noVoice ? null : msg.speech.probs, 'no voice');
    setBars('bars-face', noFace ? null : msg.face.probs, 'no face');
    setBars('bars-fused', probs, 'no voice and no face');
    $('fused-caption').textContent = smoothed ? 'Combined (steadied)' : 'Combined';
  }

  /** One capture-to-screen delay; the percentiles start after LATENCY_WARMUP_MS of results. */
  addLatency(ms, atMs) {
    setText('latency', `${ms.toFixed(0)} ms`);
    this.firstLatencyAt ??= atMs;
    if (atMs - this.firstLatencyAt < LATENCY_WARMUP_MS) {
      setText('latency-pct', `measuring (first ${LATENCY_WARMUP_MS / 1000} s skipped)`);
      return;
    }
    this.steadyLatencies.push(ms);
    if (this.steadyLatencies.length > 2000) this.steadyLatencies.shift();
    const sorted = [...this.steadyLatencies].sort((a, b) => a - b);
    setText('latency-pct', `typically ${percentile(sorted, 0.5).toFixed(0)} ms; 1 in 20 over ${percentile(sorted, 0.95).toFixed(0)} ms`);
  }
}
