import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { EmoStreamClient } from '../../../clients/node/client.js';
import { decodeI420, decodePcm16k, probeMedia, STREAM_SAMPLE_RATE } from '../../../clients/node/media.js';
import { readAuCsv } from '../../../clients/node/openface-csv.js';
import { replay } from '../../../clients/node/replay.js';
import { formatResult, formatSummary, summarize } from '../../../clients/node/timeline.js';

interface StreamOpts {
  url: string;
  token?: string;
  aus?: string;
  fast?: boolean;
  json?: boolean;
  chunkMs: string;
  fps: string;
  video?: boolean;
  videoFps: string;
  videoWidth: string;
}

/** `emostream stream <file>`: decode with ffmpeg, stream at real-time pace, print a live timeline and a summary. */
export function register(program: Command): void {
  program.command('stream <file>')
    .description('Stream an audio or video file (anything ffmpeg reads) to a server and print the emotion timeline')
    .option('-u, --url <url>', 'server URL', process.env.EMOSTREAM_URL ?? 'ws://localhost:8080')
    .option('--aus <csv>', 'OpenFace CSV (per-frame, or a clip-mean table with a name column) to send as AU frames')
    .option('--fps <n>', 'frame rate for clip-mean AUs', '30')
    .option('--fast', 'send as fast as the server keeps up instead of real time')
    .option('--token <token>', 'credential (JWT or API key) sent as Authorization: Bearer (env EMOSTREAM_TOKEN)', process.env.EMOSTREAM_TOKEN)
    .option('--json', 'one JSON result per line on stdout (summary on stderr)')
    .option('--chunk-ms <n>', 'audio chunk length', '20')
    .option('--video', "send the file's video as raw I420 frames for the server's face analysis (alone for a file without audio)")
    .option('--video-fps <n>', 'video frames per second to send', '10')
    .option('--video-width <px>', 'scale video to this width', '320')
    .action(async (file: string, o: StreamOpts) => {
      if (!existsSync(file)) throw new Error(`no such file: ${file}`);
      const log = (line: string) => (o.json ? process.stderr : process.stdout).write(line + '\n');
      // Decode only the streams the file has: ffmpeg fails on a missing audio stream instead of yielding nothing.
      const media = await probeMedia(file);
      const durationS = media.durationS;
      const aus = o.aus ? readAuCsv(o.aus, { mediaFile: file, durationS: durationS ?? undefined, fps: Number(o.fps) }).frames : undefined;
      const videoSize = o.video ? media.video : null;
      if (o.video && !videoSize) {
        if (!media.audio) throw new Error(`${file} has neither an audio nor a video track`);
        process.stderr.write(`${file} has no video track; streaming its audio only\n`);
      }
      if (!media.audio) {
        if (!media.video) throw new Error(`${file} has neither an audio nor a video track`);
        if (!videoSize && !aus) throw new Error(`${file} has no audio track; add --video to stream its video (or --aus to send AU frames)`);
        process.stderr.write(`${file} has no audio track; streaming ${videoSize ? 'its video' : 'the AU frames'} only\n`);
      }
      const client = await EmoStreamClient.connect({ url: o.url, client: 'emostream-cli', token: o.token });
      const w = client.welcome;
      const avail = w.models.map((m) => `${m.name}${m.available ? `${m.provider ? `@${m.provider}` : ''}` : ' (unavailable)'}`).join(', ');
      log(`session ${w.sessionId}  window ${w.windowMs} ms, hop ${w.hopMs} ms  models: ${avail}`);
      log(`streaming ${file}${durationS ? ` (${durationS.toFixed(1)} s)` : ''}${aus ? ` with ${aus.length} AU frames` : ''}${videoSize ? ` with video at ${o.videoFps} fps` : ''}${o.fast ? ' as fast as accepted' : ' in real time'}`);
      const tty = !o.json && process.stderr.isTTY;
      let lastProgress = 0;
      const pcm = media.audio ? decodePcm16k(file, Math.round((STREAM_SAMPLE_RATE * Number(o.chunkMs)) / 1000)) : [];
      const { results, e2eMs } = await replay(client, pcm, {
        realtime: !o.fast,
        aus,
        video: videoSize ? decodeI420(file, Number(o.videoFps), Number(o.videoWidth), videoSize) : undefined,
        onResult: (r, lat) => {
          if (o.json) process.stdout.write(JSON.stringify({ ...r, e2eMs: lat }) + '\n');
          else process.stdout.write((tty ? '\r\x1b[K' : '') + formatResult(r, lat) + '\n');
        },
        onProgress: (sentUs) => {
          if (!durationS || !tty || sentUs - lastProgress < 250_000) return;
          lastProgress = sentUs;
          const pct = Math.min(100, (sentUs / 1e6 / durationS) * 100);
          process.stderr.write(`\r\x1b[K[${pct.toFixed(0).padStart(3)}%] ${(sentUs / 1e6).toFixed(1)} / ${durationS.toFixed(1)} s`);
        },
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (client.errors.length > 0) log(`server errors: ${client.errors.map((e) => `${e.code} (${e.message})`).join('; ')}`);
      log(formatSummary(summarize(results, e2eMs)));
    });
}
