import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { splitAccessUnits } from './rtp-packetize.js';

const run = promisify(execFile);

export interface CodedVideo {
  codec: 'vp8' | 'h264';
  fps: number;
  /** VP8: one frame each. H264: one access unit each (its NAL units). */
  frames: { nals: Buffer[]; keyframe: boolean }[];
}

/**
 * Encodes a clip (or ffmpeg's synthetic test pattern when `source` is null) with ffmpeg into VP8 or H264 frames the
 * Node WHIP client can packetise: what a browser's encoder would send, made reproducible for tests and benchmarks.
 */
export async function encodeVideoFixture(codec: 'vp8' | 'h264', source: string | null, seconds: number, fps = 15, size = '320x240'): Promise<CodedVideo> {
  const input = source ? ['-i', source] : ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`];
  const common = ['-loglevel', 'error', ...input, '-t', String(seconds), '-an', '-vf', `fps=${fps},scale=${size.replace('x', ':')}`, '-pix_fmt', 'yuv420p', '-g', String(fps * 2)];
  if (codec === 'vp8') {
    const { stdout } = await run('ffmpeg', [...common, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-f', 'ivf', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    const frames: CodedVideo['frames'] = [];
    for (let off = 32; off + 12 <= stdout.length;) {
      const n = stdout.readUInt32LE(off);
      const data = stdout.subarray(off + 12, off + 12 + n);
      frames.push({ nals: [data], keyframe: (data[0] & 1) === 0 });
      off += 12 + n;
    }
    return { codec, fps, frames };
  }
  const { stdout } = await run('ffmpeg', [...common, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-x264-params', 'aud=1:repeat-headers=1', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const frames = splitAccessUnits(stdout).map((nals) => ({ nals, keyframe: nals.some((n) => (n[0] & 0x1f) === 5) }));
  return { codec, fps, frames };
}
