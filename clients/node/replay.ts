import { EmoStreamClient } from './client.js';
import { STREAM_SAMPLE_RATE } from './media.js';
import type { EmotionResult } from '../../src/protocol/v1/messages.js';

export interface ReplayOptions {
  /** true: real-time pace; false: as fast as the server keeps up (at most `aheadHops` hops past the last result). */
  realtime: boolean;
  chunkMs?: number;
  aheadHops?: number;
  /** AU frames with pts relative to the start of the audio. */
  aus?: { ptsUs: number; aus: number[] }[];
  /** Video frames (I420) with pts relative to the start of the audio, sent interleaved by time. */
  video?: AsyncIterator<{ ptsUs: number; width: number; height: number; i420: Uint8Array }>;
  onResult?: (r: EmotionResult, e2eMs: number | null) => void;
  onProgress?: (sentUs: number) => void;
  /** Session clock origin (µs); results' windows are on this clock. */
  startUs?: number;
  /**
   * Fast mode waits for results to stay `aheadHops` ahead; a session that produces none (video with no face in view,
   * so no AU frame ever cuts a hop) goes on after this long without a result (default 1000 ms).
   */
  stallMs?: number;
}

type VideoItem = { ptsUs: number; width: number; height: number; i420: Uint8Array };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streams 16 kHz mono PCM chunks (and AU and video frames interleaved by time) over one session and collects the
 * results with their end-to-end latency. Real-time pacing follows the wall clock from the first chunk, so a slow
 * event loop catches up instead of drifting. `pcm` may be empty (a video-only file): AU and video frames are then
 * sent alone, paced by their own timestamps.
 */
export async function replay(client: EmoStreamClient, pcm: AsyncIterable<Int16Array> | Iterable<Int16Array>, opts: ReplayOptions): Promise<{ results: EmotionResult[]; e2eMs: number[] }> {
  const results: EmotionResult[] = [];
  const e2eMs: number[] = [];
  let lastResultEndUs = -Infinity;
  let lastResultAt = performance.now();
  const reader = (async () => {
    for await (const r of client.results()) {
      const lat = client.latencyMs(r);
      results.push(r);
      if (lat !== null) e2eMs.push(lat);
      lastResultEndUs = r.windowEndUs;
      lastResultAt = performance.now();
      opts.onResult?.(r, lat);
    }
  })();
  const origin = opts.startUs ?? 0;
  const hopUs = client.welcome.hopMs * 1000;
  const aheadUs = (opts.aheadHops ?? 2) * hopUs;
  const aus = opts.aus ?? [];
  let ai = 0;
  let sentSamples = 0;
  let nextVideo: IteratorResult<VideoItem> | null = null;
  const stallMs = opts.stallMs ?? 1000;
  const t0 = performance.now();
  /** Waits until media up to `untilUs` (session clock) may be sent: wall-clock pace, or results close enough behind. */
  const pace = async (ptsUs: number, untilUs: number): Promise<void> => {
    if (opts.realtime) {
      const wait = t0 + (untilUs - origin) / 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      return;
    }
    // The server refuses media past maxRealtimeFactor x real time once its burst is spent (EMO_ERR_RATE_LIMITED):
    // stay a little under both, counted from our own start, which is after the server's.
    const { maxRealtimeFactor: factor, realtimeBurstMs: burstMs } = client.welcome.limits;
    if (factor && burstMs !== undefined) {
      const wait = t0 + ((untilUs - origin) / 1000 - 0.9 * burstMs) / (0.95 * factor) - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const since = performance.now();
    while (client.isOpen && (ptsUs - Math.max(lastResultEndUs, origin) > aheadUs || client.bufferedAmount > 1 << 20)) {
      if (client.bufferedAmount <= 1 << 20 && performance.now() - Math.max(lastResultAt, since) > stallMs) break;
      await sleep(1);
    }
  };
  for await (const chunk of pcm) {
    const ptsUs = origin + Math.round((sentSamples * 1e6) / STREAM_SAMPLE_RATE);
    const chunkUs = Math.round((chunk.length * 1e6) / STREAM_SAMPLE_RATE);
    await pace(ptsUs, ptsUs + chunkUs);
    if (!client.isOpen) break;
    // AU frames that fall inside this chunk go right before it, so both streams reach a hop end together.
    while (ai < aus.length && origin + aus[ai].ptsUs < ptsUs + chunkUs) {
      client.sendAu(aus[ai].aus, origin + aus[ai].ptsUs);
      ai++;
    }
    while (opts.video) {
      nextVideo ??= await opts.video.next();
      if (nextVideo.done || origin + nextVideo.value.ptsUs >= ptsUs + chunkUs) break;
      const v = nextVideo.value;
      client.sendVideo('i420', v.width, v.height, v.i420, origin + v.ptsUs);
      nextVideo = null;
    }
    client.sendAudio(chunk, { sampleRate: STREAM_SAMPLE_RATE, channels: 1, ptsUs });
    sentSamples += chunk.length;
    opts.onProgress?.(ptsUs + chunkUs - origin);
  }
  // What is left once the audio ends (all of it for a video-only file): AU and video frames in time order.
  while (client.isOpen) {
    if (opts.video && !nextVideo) nextVideo = await opts.video.next();
    const v = nextVideo && !nextVideo.done ? nextVideo.value : null;
    const a = ai < aus.length ? aus[ai] : null;
    if (!v && !a) break;
    const ptsUs = origin + (v && (!a || v.ptsUs <= a.ptsUs) ? v.ptsUs : a!.ptsUs);
    await pace(ptsUs, ptsUs);
    if (!client.isOpen) break;
    if (v && origin + v.ptsUs === ptsUs) {
      client.sendVideo('i420', v.width, v.height, v.i420, ptsUs);
      nextVideo = null;
    } else {
      client.sendAu(a!.aus, ptsUs);
      ai++;
    }
    opts.onProgress?.(ptsUs - origin);
  }
  if (client.isOpen) await client.end();
  await reader;
  return { results, e2eMs };
}
