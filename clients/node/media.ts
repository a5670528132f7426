import ffmpeg from 'fluent-ffmpeg';
import type { Readable } from 'node:stream';

export const STREAM_SAMPLE_RATE = 16000;

/** Duration of any media file ffprobe understands, in seconds (null when unknown). */
export function probeDurationS(file: string): Promise<number | null> {
  return new Promise((resolve) => {
    ffmpeg.ffprobe(file, (err, data) => {
      const d = err ? NaN : Number(data?.format?.duration);
      resolve(Number.isFinite(d) ? d : null);
    });
  });
}

export interface MediaProbe {
  durationS: number | null;
  /** The file has at least one audio stream. */
  audio: boolean;
  /** Size of the first video stream (cover art and other attached pictures do not count), or null. */
  video: { width: number; height: number } | null;
}

/** Which streams a file has (ffprobe), so callers decode only what exists. Rejects when ffprobe cannot read it. */
export function probeMedia(file: string): Promise<MediaProbe> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(file, (err, data) => {
      if (err) {
        reject(new Error(`ffprobe could not read ${file}: ${(err as Error).message.split('\n').filter(Boolean).pop() ?? String(err)}`));
        return;
      }
      const streams = data?.streams ?? [];
      const v = streams.find((s) => s.codec_type === 'video' && !(s.disposition as Record<string, number> | undefined)?.attached_pic);
      const d = Number(data?.format?.duration);
      resolve({
        durationS: Number.isFinite(d) ? d : null,
        audio: streams.some((s) => s.codec_type === 'audio'),
        video: v?.width && v?.height ? { width: v.width, height: v.height } : null,
      });
    });
  });
}

/**
 * Decodes the audio of any file ffmpeg reads (wav, mp3, flv, mp4, ...) to 16 kHz mono s16le and yields it in
 * chunks of `chunkSamples` as it decodes, so long files stream without being held in memory.
 */
export async function* decodePcm16k(file: string, chunkSamples: number): AsyncGenerator<Int16Array> {
  const errors: string[] = [];
  const cmd = ffmpeg(file)
    .noVideo()
    .audioChannels(1)
    .audioFrequency(STREAM_SAMPLE_RATE)
    .format('s16le')
    .on('error', (err: Error) => { errors.push(err.message); });
  const out = cmd.pipe() as Readable;
  let pending: Buffer = Buffer.alloc(0);
  const bytesPerChunk = chunkSamples * 2;
  for await (const data of out) {
    pending = pending.length ? Buffer.concat([pending, data as Buffer]) : (data as Buffer);
    while (pending.length >= bytesPerChunk) {
      const chunk = pending.subarray(0, bytesPerChunk);
      pending = pending.subarray(bytesPerChunk);
      yield new Int16Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length));
    }
  }
  if (pending.length >= 2) {
    const n = pending.length - (pending.length % 2);
    yield new Int16Array(pending.buffer.slice(pending.byteOffset, pending.byteOffset + n));
  }
  // ffmpeg reports failures on its own event after the pipe ends.
  await new Promise((r) => setTimeout(r, 10));
  if (errors.length > 0 && !/Output stream closed/.test(errors[0])) throw new Error(`ffmpeg could not decode ${file}: ${errors[0]}`);
}

/** Width and height of the first video stream, or null for audio-only files. */
export function probeVideoSize(file: string): Promise<{ width: number; height: number } | null> {
  return new Promise((resolve) => {
    ffmpeg.ffprobe(file, (err, data) => {
      const v = err ? undefined : data?.streams?.find((s) => s.codec_type === 'video');
      resolve(v?.width && v?.height ? { width: v.width, height: v.height } : null);
    });
  });
}

export interface DecodedVideoFrame {
  ptsUs: number;
  width: number;
  height: number;
  /** I420 planes. */
  i420: Uint8Array;
}

/**
 * Decodes the video of a file to raw I420 frames at `fps`, scaled to `width` (height keeps the aspect ratio, even),
 * yielding them as they decode. Frame k has ptsUs = k / fps.
 */
export async function* decodeI420(file: string, fps: number, width: number, source: { width: number; height: number }): AsyncGenerator<DecodedVideoFrame> {
  const w = Math.min(width, source.width) & ~1;
  const h = Math.max(2, Math.round((source.height * w) / source.width / 2) * 2);
  const frameBytes = w * h + 2 * (w / 2) * (h / 2);
  const errors: string[] = [];
  const out = ffmpeg(file)
    .noAudio()
    .videoFilters([`fps=${fps}`, `scale=${w}:${h}`])
    .outputOptions(['-pix_fmt', 'yuv420p'])
    .format('rawvideo')
    .on('error', (err: Error) => { errors.push(err.message); })
    .pipe() as Readable;
  let pending: Buffer = Buffer.alloc(0);
  let k = 0;
  for await (const data of out) {
    pending = pending.length ? Buffer.concat([pending, data as Buffer]) : (data as Buffer);
    while (pending.length >= frameBytes) {
      const frame = new Uint8Array(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
      yield { ptsUs: Math.round((k++ * 1e6) / fps), width: w, height: h, i420: frame };
    }
  }
  await new Promise((r) => setTimeout(r, 10));
  if (errors.length > 0 && k === 0) throw new Error(`ffmpeg could not decode video of ${file}: ${errors[0]}`);
}
