/* global WebSocket, AudioContext, AudioWorkletNode, Blob, MediaStream, document */
// WebSocket fallback: protocol v1 over /v1/stream. Audio is taken from the microphone with an AudioWorklet and sent
// as float PCM; video frames as JPEG at the analysis rate. The page's own clock stamps every frame.
import { encodeJpeg, encodePcmF32 } from './frames.js';

const WORKLET = `
registerProcessor('emostream-tap', class extends AudioWorkletProcessor {
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) this.port.postMessage(ch.slice(0));
    return true;
  }
});`;

/** `url`: the ws(s):// address of /v1/stream (clients/web/urls.js builds it). */
export async function startWebSocket({ stream, url, onMessage, videoFps = 10 }) {
  const ws = new WebSocket(url, ['emo.v1']);
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`WebSocket to ${new URL(url.pathname, url)} failed`));
  });
  const ctx = new AudioContext();
  const rate = ctx.sampleRate;
  const hasVideo = stream.getVideoTracks().length > 0;
  const streams = [{ id: 0, kind: 'audio', sampleRate: rate, channels: 1, format: 'pcm_f32le' }];
  if (hasVideo) streams.push({ id: 1, kind: 'video', format: 'jpeg' });
  let ended = false;
  let endWaiter = null;
  const welcome = new Promise((resolve, reject) => {
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === 'welcome') resolve(msg);
      else if (msg.type === 'error') reject(new Error(`${msg.code}: ${msg.message}`));
      if (msg.type === 'end') {
        ended = true;
        endWaiter?.();
      }
      onMessage(msg);
    };
  });
  ws.send(JSON.stringify({ type: 'hello', protocol: '1.0', client: 'emostream-web', streams }));
  const hello = await welcome;

  // Capture log: session time of each chunk's end -> when it was captured (page clock), bounded.
  const captured = [];
  let samplesSent = 0;
  let seqA = 0;
  let pending = [];
  let pendingLen = 0;
  const chunk = Math.round(rate * 0.02);
  const blobUrl = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(blobUrl);
  const source = ctx.createMediaStreamSource(stream);
  const tap = new AudioWorkletNode(ctx, 'emostream-tap');
  let startEpochMs = null;
  // Set before `end` goes out: worklet messages and JPEG encodes already under way must not follow it.
  let stopping = false;
  tap.port.onmessage = (e) => {
    if (stopping) return;
    pending.push(e.data);
    pendingLen += e.data.length;
    if (pendingLen < chunk) return;
    const out = new Float32Array(pendingLen);
    let o = 0;
    for (const p of pending) { out.set(p, o); o += p.length; }
    // The server refuses float audio beyond [-1, 1] (EMO_ERR_OUT_OF_RANGE); a browser's gain stages can overshoot.
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]));
    pending = [];
    pendingLen = 0;
    const ptsUs = (samplesSent * 1e6) / rate;
    samplesSent += out.length;
    const now = Date.now();
    startEpochMs ??= now - (out.length * 1000) / rate;
    captured.push({ endUs: (samplesSent * 1e6) / rate, epochMs: now });
    if (captured.length > 3000) captured.shift();
    if (ws.readyState === WebSocket.OPEN) ws.send(encodePcmF32(0, seqA++, ptsUs, out, rate));
  };
  source.connect(tap);

  let videoTimer = null;
  if (hasVideo) {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream(stream.getVideoTracks());
    await video.play().catch(() => undefined);
    const canvas = document.createElement('canvas');
    let seqV = 0;
    let busy = false;
    videoTimer = setInterval(() => {
      if (busy || startEpochMs === null || !video.videoWidth || ws.bufferedAmount > 1 << 20) return;
      const scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      const ptsUs = (Date.now() - startEpochMs) * 1000;
      busy = true;
      canvas.toBlob(async (blob) => {
        busy = false;
        if (!blob || stopping || ws.readyState !== WebSocket.OPEN) return;
        const jpeg = await blob.arrayBuffer();
        // `end` may have gone out while the bytes were read: a frame after it is refused (EMO_ERR_ENDED).
        if (stopping || ws.readyState !== WebSocket.OPEN) return;
        ws.send(encodeJpeg(1, seqV++, ptsUs, canvas.width, canvas.height, jpeg));
      }, 'image/jpeg', 0.8);
    }, 1000 / videoFps);
  }

  return {
    kind: 'websocket',
    sessionId: hello.sessionId,
    captureEpochMs(msg) {
      const end = msg.windowEndUs;
      for (let i = captured.length - 1; i >= 0; i--) {
        const c = captured[i];
        if (c.endUs >= end && (i === 0 || captured[i - 1].endUs < end)) return c.epochMs - (c.endUs - end) / 1000;
      }
      return null;
    },
    captureBasis: () => 'page',
    async stop() {
      stopping = true;
      if (videoTimer) clearInterval(videoTimer);
      source.disconnect();
      tap.disconnect();
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'end' }));
        if (!ended) await new Promise((resolve) => { endWaiter = resolve; setTimeout(resolve, 4000); });
      }
      ws.close();
      await ctx.close();
      URL.revokeObjectURL(blobUrl);
    },
  };
}
