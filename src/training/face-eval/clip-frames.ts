import { spawn } from 'node:child_process';

/** JPEG frames of a video file at `fps`, decoded by ffmpeg (image2pipe), with their presentation times. */
export interface JpegFrame {
  jpeg: Buffer;
  ptsUs: number;
  width: number;
  height: number;
}

/** Splits a concatenated MJPEG stream at its end-of-image markers (FFD9 followed by the next SOI FFD8 or the end). */
export function splitJpegStream(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = buf.indexOf(Buffer.from([0xff, 0xd8]));
  while (start >= 0) {
    const end = buf.indexOf(Buffer.from([0xff, 0xd9, 0xff, 0xd8]), start + 2);
    if (end < 0) {
      out.push(buf.subarray(start));
      break;
    }
    out.push(buf.subarray(start, end + 2));
    start = end + 2;
  }
  return out;
}

/**
 * Decodes a video file's video track to JPEG frames at `fps` (ffmpeg's fps filter, so frame i is at i / fps s).
 * `maxSide` downsizes large videos (the pipeline analyses at <= 640 px anyway).
 */
export async function extractJpegFrames(path: string, fps = 10, opts: { maxSide?: number; quality?: number } = {}): Promise<JpegFrame[]> {
  const maxSide = opts.maxSide ?? 640;
  const vf = `fps=${fps},scale='if(gt(iw,ih),min(${maxSide},iw),-2)':'if(gt(iw,ih),-2,min(${maxSide},ih))'`;
  const args = ['-v', 'error', '-i', path, '-an', '-vf', vf, '-q:v', String(opts.quality ?? 3), '-f', 'image2pipe', '-vcodec', 'mjpeg', 'pipe:1'];
  const chunks: Buffer[] = [];
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    ff.stdout.on('data', (c: Buffer) => chunks.push(c));
    ff.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    ff.on('error', (err) => reject(new Error(`ffmpeg not runnable: ${err.message}`)));
    ff.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg failed on ${path} (${code}): ${stderr.trim().slice(0, 300)}`))));
  });
  const frames = splitJpegStream(Buffer.concat(chunks));
  return frames.map((jpeg, i) => {
    // SOF0/SOF2 marker holds the size; read it so callers can declare it.
    let width = 0, height = 0;
    for (let o = 2; o + 9 < jpeg.length; ) {
      if (jpeg[o] !== 0xff) break;
      const marker = jpeg[o + 1];
      const len = jpeg.readUInt16BE(o + 2);
      if (marker >= 0xc0 && marker <= 0xc2) {
        height = jpeg.readUInt16BE(o + 5);
        width = jpeg.readUInt16BE(o + 7);
        break;
      }
      o += 2 + len;
    }
    return { jpeg, ptsUs: Math.round((i * 1e6) / fps), width, height };
  });
}
