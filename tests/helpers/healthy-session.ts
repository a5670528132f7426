import assert from 'node:assert/strict';
import { EmoStreamClient, type EmotionResult } from '../../clients/node/index.js';
import type { TestServer } from './server.js';
import { readHead, referencePosterior, speechFeatures } from './tiny-models.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const tone = (n: number, offset = 0) => Int16Array.from({ length: n }, (_, i) => Math.round(6000 * Math.sin((offset + i) / 7)));

/**
 * A well-behaved session running alongside the bad ones: it must keep getting correct (golden) results whatever
 * the others do.
 */
export async function healthySession(ts: TestServer, chunks = 40): Promise<void> {
  const c = await EmoStreamClient.connect({ url: ts.url });
  const results: EmotionResult[] = [];
  const reader = (async () => { for await (const r of c.results()) results.push(r); })();
  const pcm = tone(chunks * 320);
  for (let k = 0; k < chunks; k++) {
    c.sendAudio(pcm.subarray(k * 320, (k + 1) * 320), { sampleRate: 16000, channels: 1, ptsUs: k * 20_000 });
    await sleep(2);
  }
  const { close: cl } = await c.end();
  await reader;
  assert.equal(cl.code, 1000);
  assert.ok(results.length >= Math.floor((chunks * 20) / 250), `healthy session got ${results.length} results`);
  const head = readHead(ts.dirs.speech);
  const r = results[1];
  const expected = referencePosterior(head, speechFeatures(Array.from(pcm.subarray(r.windowStartUs * 0.016, r.windowEndUs * 0.016), (s) => s / 32768)));
  r.speech!.probs.forEach((p, k) => assert.ok(Math.abs(p - expected[k]) < 1e-4, 'healthy session posterior is still exact'));
}

