import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { decodePcm16k, probeDurationS, probeVideoSize, STREAM_SAMPLE_RATE } from '../../../clients/node/media.js';
import { formatResult, formatSummary, summarize } from '../../../clients/node/timeline.js';
import type { EmotionResult } from '../../protocol/v1/messages.js';
import { encodeVideoFixture } from '../../../clients/node/video-fixture.js';
import { to48k, WhipClient } from '../../../clients/node/whip-client.js';

interface PublishOpts {
  url: string;
  token?: string;
  video?: string;
  json?: boolean;
}

/**
 * `emostream publish <file>`: the WebRTC path from the command line. Publishes a file's audio (Opus) and optionally
 * its video (VP8 or H264, encoded by ffmpeg) over WHIP at real-time pace, and prints the results that come back on
 * the DataChannel.
 */
export function register(program: Command): void {
  program.command('publish <file>')
    .description('Publish an audio or video file to a server over WebRTC (WHIP) and print the emotion timeline')
    .option('-u, --url <url>', 'server base URL (the WHIP endpoint is <url>/v1/whip)', process.env.EMOSTREAM_HTTP_URL ?? 'http://localhost:8080')
    .option('--video <codec>', "also publish the file's video: vp8 or h264")
    .option('--token <token>', 'credential (JWT or API key) sent as Authorization: Bearer (env EMOSTREAM_TOKEN)', process.env.EMOSTREAM_TOKEN)
    .option('--json', 'one JSON result per line on stdout (summary on stderr)')
    .action(async (file: string, o: PublishOpts) => {
      if (!existsSync(file)) throw new Error(`no such file: ${file}`);
      if (o.video && o.video !== 'vp8' && o.video !== 'h264') throw new Error(`--video must be vp8 or h264, not ${o.video}`);
      const durationS = (await probeDurationS(file)) ?? 0;
      const chunks: Int16Array[] = [];
      for await (const c of decodePcm16k(file, STREAM_SAMPLE_RATE)) chunks.push(c);
      const pcm16k = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let off = 0;
      for (const c of chunks) for (let i = 0; i < c.length; i++) pcm16k[off++] = c[i] / 32768;
      const pcm48k = await to48k(pcm16k, STREAM_SAMPLE_RATE);
      const codec = o.video as 'vp8' | 'h264' | undefined;
      if (codec && !(await probeVideoSize(file))) throw new Error(`${file} has no video stream`);
      const video = codec ? await encodeVideoFixture(codec, file, Math.max(1, durationS), 15, '640x-2') : null;

      const url = new URL('/v1/whip', o.url).toString();
      const client = await WhipClient.connect({ url, video: codec, headers: o.token ? { authorization: `Bearer ${o.token}` } : undefined });
      const log = (line: string) => (o.json ? process.stderr : process.stdout).write(line + '\n');
      log(`session ${client.sessionId} over WebRTC (${url})${codec ? `, video ${codec}` : ''}`);
      // Send time of each 20 ms Opus frame: the session clock starts with the first audio packet, so a result's
      // windowEndUs names the frame that carried its last sample.
      const sentAt = new Float64Array(Math.ceil(pcm48k.length / 960) + 1);
      const results: EmotionResult[] = [];
      const e2e: number[] = [];
      client.onMessage((m) => {
        if (m.type === 'error') log(`server error ${String(m.code)}: ${String(m.message)}`);
        if (m.type !== 'emotion') return;
        const r = m as unknown as EmotionResult;
        const frame = Math.ceil((r.windowEndUs * 48) / 1000 / 960) - 1;
        const lat = frame >= 0 && sentAt[frame] > 0 ? Date.now() - sentAt[frame] : null;
        results.push(r);
        if (lat !== null) e2e.push(lat);
        process.stdout.write((o.json ? JSON.stringify({ ...r, e2eMs: lat }) : formatResult(r, lat)) + '\n');
      });
      await Promise.all([
        client.streamPcm(pcm48k, { onFrame: (at, end) => { sentAt[Math.ceil(end / 960) - 1] = at; } }),
        video ? client.streamVideo(video, pcm48k.length / 48000) : Promise.resolve(),
      ]);
      await client.end(10_000);
      await client.close();
      log(formatSummary(summarize(results, e2e)));
    });
}
