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
