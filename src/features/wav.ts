import { readFileSync } from 'node:fs';

export interface PcmAudio {
  sampleRate: number;
  /** Mono samples in [-1, 1] (multi-channel files are averaged). */
  samples: Float32Array;
}

/**
 * Decodes a RIFF/WAVE file with 16-bit integer or 32-bit float PCM. RAVDESS in ../shared is 16 kHz mono 16-bit;
 * anything else (compressed, 8/24-bit) gets a specific error instead of garbage samples.
 */
export function decodeWav(bytes: Uint8Array, name = 'wav'): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error(`${name}: not a RIFF/WAVE file`);
  let offset = 12;
  let format = 0, channels = 0, sampleRate = 0, bits = 0;
  let data: Uint8Array | null = null;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
    } else if (id === 'data') {
      data = bytes.subarray(body, Math.min(bytes.length, body + size));
    }
    offset = body + size + (size & 1);
  }
  if (!data || channels === 0) throw new Error(`${name}: missing fmt or data chunk`);
  const isInt16 = format === 1 && bits === 16;
  const isFloat32 = format === 3 && bits === 32;
  if (!isInt16 && !isFloat32) throw new Error(`${name}: unsupported WAV encoding (format ${format}, ${bits} bit); need 16-bit PCM or 32-bit float`);
  const bytesPerSample = bits / 8;
  const frames = Math.floor(data.length / (bytesPerSample * channels));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = (i * channels + c) * bytesPerSample;
      sum += isInt16 ? dv.getInt16(at, true) / 32768 : dv.getFloat32(at, true);
    }
    samples[i] = sum / channels;
  }
  return { sampleRate, samples };
}

export function readWav(path: string): PcmAudio {
  return decodeWav(readFileSync(path), path);
}
