/* global window, document, navigator, location, requestAnimationFrame, WebSocket, URLSearchParams */
// emostream web client: capture (WebRTC by default, WebSocket fallback), a live chart and posterior bars, and a
// subscriber view. No framework: the DOM is small and updated in place once per result.
import { COLORS, ProbChart } from './chart.js';
import { LABELS, ResultsView } from './results-view.js';
import { startWebRtc } from './transport-webrtc.js';
import { startWebSocket } from './transport-ws.js';
import { endpoints } from './urls.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// A credential handed over in the page's URL (?access_token=, docs/security.md): kept in memory only and taken out
// of the address bar at once, so it stays out of the history, bookmarks and Referer headers.
const accessToken = params.get('access_token');
if (accessToken) {
  params.delete('access_token');
  window.history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
}

/** Why the server refuses this page's credential, in words (browsers cannot read a refused WebSocket's answer). */
async function refusalReason(check) {
  try {
    const res = await window.fetch(`/v1/auth/whoami?${new URLSearchParams(check)}`, { headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} });
    if (res.ok) return null;
    const body = await res.json();
    return `access refused (${body.code}): ${body.message}${accessToken ? '' : '. Open this page with ?access_token=<token>'}`;
  } catch {
    return null;
  }
}
const urls = endpoints(location.href, accessToken);

// State the page exposes for its own tests (tests/integration/webrtc-browser.test.ts) and for debugging.
const state = { transport: null, sessionId: null, results: [], latencies: [], stats: null, errors: [], status: 'idle' };
window.emostream = state;

const chart = new ProbChart($('chart'), LABELS);
const view = new ResultsView();
let session = null;
let mediaStream = null;
let subscriber = null;
let stopping = false;

function setStatus(text) {
  $('status').textContent = text;
  state.status = text;
}

function buildLegend() {
  $('legend').innerHTML = '';
  LABELS.forEach((l, i) => {
    const li = document.createElement('li');
    li.innerHTML = `<i style="background:${COLORS[i]}"></i>${l}`;
    $('legend').append(li);
  });
}

function onResult(msg, captureEpochMs, basis) {
  const receivedAt = performance.timeOrigin + performance.now();
  state.results.push(msg);
  requestAnimationFrame(() => {
    const fused = msg.fused?.probs ?? null;
    if (fused) chart.push(msg.windowEndUs / 1e6, fused);
    chart.draw();
    view.show(msg);
    $('chart').setAttribute('aria-label', `Combined emotion scores over the last 30 seconds; now ${msg.smoothed?.label ?? msg.fused?.label ?? 'no signal'}`);
    if (captureEpochMs !== null && captureEpochMs !== undefined) {
      // Shown = after this frame's DOM and canvas updates, on the page's clock.
      const shownAt = performance.timeOrigin + performance.now();
      const ms = shownAt - captureEpochMs;
      // `receivedMs`: the part before the page got the message; the rest is the page drawing it.
      state.latencies.push({ ms, receivedMs: receivedAt - captureEpochMs, basis, hop: msg.hop, windowEndUs: msg.windowEndUs });
      view.addLatency(ms, shownAt);
    }
  });
}

function showSession(id) {
  state.sessionId = id;
  $('session-id').textContent = id ?? '';
  const link = id ? urls.followLink(id) : '';
  $('share-link').value = link;
  $('share').hidden = !id;
}

function onMessage(msg) {
  switch (msg.type) {
    case 'welcome':
      showSession(msg.sessionId);
      view.setTiming(msg);
      break;
    case 'emotion':
      onResult(msg, session?.captureEpochMs(msg) ?? null, session?.captureBasis(msg) ?? null);
      break;
    case 'webrtc-stats':
      state.stats = msg;
      if (msg.audio) $('missing').textContent = `${msg.audio.missingAudioMs.toFixed(0)} ms (${msg.audio.lost} packets)`;
      break;
    case 'error':
      state.errors.push(msg);
      setStatus(`Server: ${msg.code} — ${msg.message}`);
      break;
    case 'end':
      setStatus(`Session ended (${msg.reason}); ${msg.results} results.`);
      // Ended by the server (error, shutdown): release the camera and microphone and reset the controls.
      if (session && !stopping) void stop(`Session ended by the server (${msg.reason}).`);
      break;
  }
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, sel] of [['audioinput', $('mic')], ['videoinput', $('cam')]]) {
    const keep = sel.value;
    for (const opt of [...sel.options]) if (opt.value !== '' && opt.value !== 'none') opt.remove();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const opt = document.createElement('option');
      opt.value = d.deviceId;
      opt.textContent = d.label || `${kind === 'audioinput' ? 'microphone' : 'camera'} ${i + 1}`;
      sel.append(opt);
    });
    sel.value = keep;
  }
}

async function start() {
  $('start').disabled = true;
  state.results = [];
  state.latencies = [];
  chart.reset();
  view.reset();
  const mic = $('mic').value;
  const cam = $('cam').value;
  // Raw audio: echo cancellation, noise suppression and AGC would change what the speech model hears.
  const audio = { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1, ...(mic ? { deviceId: { exact: mic } } : {}) };
  const video = cam === 'none' ? false : { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 }, ...(cam ? { deviceId: { exact: cam } } : {}) };
  try {
    setStatus('Opening camera and microphone…');
    mediaStream = await navigator.mediaDevices.getUserMedia({ audio, video });
    await listDevices().catch(() => undefined);
    $('preview').srcObject = mediaStream;
    $('preview').classList.toggle('on', mediaStream.getVideoTracks().length > 0);
    const mode = $('transport').value;
    if (mode !== 'ws') {
      try {
        setStatus('Connecting over WebRTC…');
        session = await startWebRtc({ stream: mediaStream, whipUrl: urls.whip(), token: accessToken, onMessage, videoCodec: params.get('codec'), onState: (s) => {
          if (s === 'disconnected') setStatus('WebRTC connection interrupted…');
          if (s === 'failed' && session) void stop('WebRTC connection failed; session ended.');
        } });
      } catch (err) {
        if (mode === 'webrtc') throw err;
        setStatus(`WebRTC unavailable (${err.message}); falling back to WebSocket…`);
      }
    }
    session ??= await startWebSocket({ stream: mediaStream, url: urls.stream(), onMessage });
    state.transport = session.kind;
    showSession(session.sessionId || state.sessionId);
    setStatus(`Streaming over ${session.kind === 'webrtc' ? 'WebRTC' : 'WebSocket'}. Session ${state.sessionId}.`);
    $('stop').disabled = false;
  } catch (err) {
    const reason = (await refusalReason({ scope: 'publish' })) ?? err.message;
    state.errors.push({ message: reason });
    setStatus(`Could not start: ${reason}`);
    await stop();
  }
}

async function stop(finalStatus = null) {
  if (stopping) return;
  stopping = true;
  $('stop').disabled = true;
  const s = session;
  session = null;
  if (s) {
    if (!finalStatus) setStatus('Stopping (waiting for the final result)…');
    await s.stop().catch(() => undefined);
  }
  for (const t of mediaStream?.getTracks() ?? []) t.stop();
  mediaStream = null;
  $('preview').classList.remove('on');
  $('start').disabled = false;
  stopping = false;
  if (s) setStatus(finalStatus ?? `Stopped. ${state.results.length} results.`);
}

function follow(id) {
  unfollow();
  const ws = new WebSocket(urls.subscribe(id), ['emo.v1']);
  subscriber = ws;
  let opened = false;
  ws.onopen = () => { opened = true; };
  state.results = [];
  chart.reset();
  view.reset();
  $('session-id').textContent = id;
  $('unsubscribe').disabled = false;
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'subscribed') {
      setStatus(`Following session ${msg.sessionId}.`);
      view.setTiming(msg);
    }
    else if (msg.type === 'emotion') onResult(msg, null, null);
    else onMessage(msg);
  };
  ws.onclose = async (e) => {
    const refused = opened ? null : await refusalReason({ scope: 'subscribe', session: id });
    if (subscriber === ws) setStatus(refused ? `Could not follow: ${refused}` : `Stopped following (${e.code}${e.reason ? ` ${e.reason}` : ''}).`);
    $('unsubscribe').disabled = true;
  };
}

function unfollow() {
  const ws = subscriber;
  subscriber = null;
  ws?.close();
}

async function copyShareLink() {
  const link = $('share-link').value;
  try {
    await navigator.clipboard.writeText(link);
    $('copy-state').textContent = 'Link copied.';
  } catch {
    // No clipboard permission (plain http, an old browser): select the text so Ctrl+C copies it.
    $('share-link').select();
    $('copy-state').textContent = 'Press Ctrl+C (or Cmd+C) to copy the selected link.';
  }
}

buildLegend();
$('copy-link').addEventListener('click', () => void copyShareLink());
chart.draw();
$('capture-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void start();
});
$('stop').addEventListener('click', () => void stop());
$('subscribe-form').addEventListener('submit', (e) => {
  e.preventDefault();
  follow($('sub-id').value.trim());
});
$('unsubscribe').addEventListener('click', unfollow);
if (params.get('transport')) $('transport').value = params.get('transport');
if (params.get('camera') === 'none') $('cam').value = 'none';
if (params.get('follow')) {
  $('sub-id').value = params.get('follow');
  follow(params.get('follow'));
}
navigator.mediaDevices?.enumerateDevices().then(() => listDevices()).catch(() => undefined);
navigator.mediaDevices?.addEventListener?.('devicechange', () => void listDevices().catch(() => undefined));
setTimeout(() => document.body.classList.add('ready'), 0);
