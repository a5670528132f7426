/* The session report page (served at /sessions/:id): plain JS and SVG, no libraries, nothing loaded from outside. */
/* global document, SESSION_ID */
const COLORS = { neutral: '#8d99ae', calm: '#2a9d8f', happy: '#e9c46a', sad: '#457b9d', angry: '#d62828', fearful: '#7b2cbf', disgust: '#6a994e', surprised: '#f4a261' };
const SVG = 'http://www.w3.org/2000/svg';
const api = `/v1/sessions/${encodeURIComponent(SESSION_ID)}`;

function el(tag, attrs = {}, parent = null, text = null) {
  const e = tag === 'svg' || ['rect', 'line', 'polyline', 'text', 'g', 'title'].includes(tag) ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

const pct = (x) => `${Math.round(x * 100)}%`;
function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
function duration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m ? `${m} min ${s} s` : `${s} s`;
}

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()).slice(0, 200)}`);
  return res.json();
}

/** Every stored result, page by page. */
async function timeline() {
  const all = [];
  for (let from = 0; from !== null;) {
    const page = await getJson(`${api}/timeline?fromHop=${from}`);
    all.push(...page.results);
    from = page.nextFromHop;
  }
  return all;
}

/** Time axis shared by every chart: seconds since the session began -> x pixels. */
function axis(width, t0, t1) {
  const left = 44;
  const right = width - 12;
  const span = Math.max(t1 - t0, 1);
  return { left, right, x: (t) => left + ((t - t0) / span) * (right - left), t0, t1 };
}

function drawTimeTicks(svg, ax, y) {
  const span = ax.t1 - ax.t0;
  const step = [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((s) => span / s <= 8) ?? 7200;
  for (let t = Math.ceil(ax.t0 / step) * step; t <= ax.t1; t += step) {
    el('line', { x1: ax.x(t), x2: ax.x(t), y1: y, y2: y + 4, stroke: '#9aa3b2' }, svg);
    el('text', { x: ax.x(t), y: y + 16, 'text-anchor': 'middle' }, svg, clock(t));
  }
}

function drawAlerts(svg, ax, alerts, top, bottom) {
  for (const a of alerts) {
    const x = ax.x(a.atUs / 1e6);
    const line = el('line', { x1: x, x2: x, y1: top, y2: bottom, stroke: '#c1121f', 'stroke-width': 2, 'stroke-dasharray': '4 3', class: 'alert-mark' }, svg);
    el('title', {}, line, `${clock(a.atUs / 1e6)} ${a.message}`);
  }
}

function drawBand(results, ax, alerts) {
  const svg = document.getElementById('band');
  const w = svg.clientWidth;
  for (const r of results) {
    if (!r.fused) continue;
    const x0 = ax.x(r.windowEndUs / 1e6 - results.hopS);
    const rect = el('rect', { x: x0, y: 8, width: Math.max(1, ax.x(r.windowEndUs / 1e6) - x0), height: 44, fill: COLORS[r.fused.label] ?? '#ccc' }, svg);
    el('title', {}, rect, `${clock(r.windowEndUs / 1e6)} ${r.fused.label}`);
  }
  drawAlerts(svg, ax, alerts, 2, 58);
  drawTimeTicks(svg, ax, 60);
  svg.setAttribute('viewBox', `0 0 ${w} 90`);
}

/** One line chart of the probability of each emotion from one source over time. */
function drawSource(title, pick, results, ax, alerts, labels) {
  const wrap = el('div', { class: 'card', style: 'margin-bottom:12px' }, document.getElementById('charts'));
  el('div', { style: 'font-weight:600' }, wrap, title);
  const svg = el('svg', { width: '100%', height: 170, 'data-source': title }, wrap);
  const h = 130;
  const y = (p) => 8 + (1 - p) * (h - 8);
  for (const p of [0, 0.5, 1]) {
    el('line', { x1: ax.left, x2: ax.right, y1: y(p), y2: y(p), stroke: '#e3e7ee' }, svg);
    el('text', { x: ax.left - 6, y: y(p) + 4, 'text-anchor': 'end' }, svg, String(p));
  }
  labels.forEach((label, k) => {
    // Missing source -> a break in the line, not a drop to zero.
    let points = [];
    const flush = () => {
      if (points.length > 1) el('polyline', { points: points.join(' '), fill: 'none', stroke: COLORS[label], 'stroke-width': 1.6 }, svg);
      points = [];
    };
    for (const r of results) {
      const post = pick(r);
      if (!post) { flush(); continue; }
      points.push(`${ax.x(r.windowEndUs / 1e6).toFixed(1)},${y(post.probs[k]).toFixed(1)}`);
    }
    flush();
  });
  drawAlerts(svg, ax, alerts, 4, h);
  drawTimeTicks(svg, ax, h + 2);
  svg.setAttribute('viewBox', `0 0 ${svg.clientWidth} 170`);
}

function drawShares(shares) {
  const svg = document.getElementById('shares');
  const entries = Object.entries(shares);
  const w = svg.clientWidth;
  svg.setAttribute('height', String(entries.length * 26 + 6));
  entries.forEach(([label, share], i) => {
    const y = 4 + i * 26;
    el('text', { x: 0, y: y + 15 }, svg, label);
    el('rect', { x: 90, y, width: Math.max(2, share * (w - 150)), height: 20, fill: COLORS[label] ?? '#ccc', class: 'share-bar' }, svg);
    el('text', { x: 96 + share * (w - 150), y: y + 15 }, svg, pct(share));
  });
}

function renderFacts(s) {
  const facts = document.getElementById('facts');
  const fact = (value, label) => { const d = el('div', { class: 'fact' }, facts); el('b', {}, d, value); el('span', { class: 'muted' }, d, label); };
  fact(duration(s.durationS), 'length');
  fact(pct(s.coverage.voice), 'of the time a voice was heard');
  fact(pct(s.coverage.face), 'of the time a face was seen');
  fact(String(s.alerts.length), s.alerts.length === 1 ? 'alert' : 'alerts');
  const top = Object.entries(s.labelShares)[0];
  document.getElementById('headline').textContent = top
    ? `The emotion read most often was “${top[0]}”, for ${pct(top[1])} of the session.`
    : 'No combined reading was available for this session.';
}

function renderMinutes(rows) {
  const body = document.querySelector('#minutes tbody');
  for (const m of rows) {
    const tr = el('tr', {}, body);
    el('td', {}, tr, `${clock(m.minute * 60)} – ${clock(m.minute * 60 + 60)}`);
    el('td', {}, tr, m.label ?? 'no reading');
    el('td', {}, tr, pct(m.share));
  }
}

function renderAlerts(alerts) {
  const box = document.getElementById('alerts');
  if (!alerts.length) { box.textContent = 'No alerts were raised during this session.'; return; }
  const table = el('table', {}, box);
  for (const a of alerts) {
    const tr = el('tr', { class: 'alert-row' }, table);
    el('td', {}, tr, clock(a.atUs / 1e6));
    el('td', {}, tr, a.message);
  }
}

async function main() {
  document.getElementById('csv').href = `${api}/timeline?format=csv`;
  document.getElementById('json').href = `${api}/timeline?format=json`;
  const summary = await getJson(api);
  const results = await timeline();
  const s = summary.session;
  document.getElementById('when').textContent = `Started ${new Date(s.startedAtMs).toLocaleString()}` +
    (s.endedAtMs ? `, ended ${new Date(s.endedAtMs).toLocaleTimeString()}` : ' (still running)') + `. Session ${s.id}`;
  renderFacts(summary);
  const legend = document.getElementById('legend');
  for (const label of summary.labels) el('span', { style: `--c:${COLORS[label]}` }, legend, label);
  results.hopS = s.hopMs / 1000;
  const t0 = results.length ? results[0].windowEndUs / 1e6 - results.hopS : 0;
  const t1 = results.length ? results[results.length - 1].windowEndUs / 1e6 : 1;
  const width = document.getElementById('band').clientWidth;
  const ax = axis(width, t0, t1);
  drawBand(results, ax, summary.alerts);
  drawSource('Voice and face together', (r) => r.fused, results, ax, summary.alerts, summary.labels);
  drawSource('From the voice', (r) => r.speech, results, ax, summary.alerts, summary.labels);
  drawSource('From the face', (r) => r.face, results, ax, summary.alerts, summary.labels);
  drawShares(summary.labelShares);
  renderMinutes(summary.dominantPerMinute);
  renderAlerts(summary.alerts);
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  document.getElementById('error').textContent = `The report could not be loaded: ${err.message}`;
  document.body.dataset.ready = 'error';
});
