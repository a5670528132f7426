import { OpusWasmDecoder } from './opus-wasm.js';

export const OPUS_RATE = 48000;

/**
 * Decodes Opus packets to mono 48 kHz float PCM (libopus from the opusscript npm package, through ./opus-wasm.ts;
 * libopus downmixes stereo senders). Synchronous: `onPcm` runs before `decode` returns, so tags need no queue.
 * prism-media's decoder was the first choice; it loads opusscript's own wrapper, which fails for every session once
 * about 28 decoders exist in the process (see opus-wasm.ts), so it is not used.
 */
export class OpusPcmDecoder<Tag> {
  private readonly decoder = new OpusWasmDecoder(OPUS_RATE, 1);
  private decoded = 0;
  private errors = 0;
  private closed = false;

  constructor(private readonly onPcm: (samples: Float32Array, tag: Tag) => void) {}

  /** Decodes one packet and hands its samples on. Returns false when the packet is corrupt (counted). */
  decode(packet: Buffer, tag: Tag): boolean {
    if (this.closed) return false;
    let pcm: Float32Array;
    try {
      pcm = this.decoder.decode(packet);
    } catch {
      this.errors++;
      return false;
    }
    this.decoded++;
    this.onPcm(pcm, tag);
    return true;
  }

  stats(): { decodedPackets: number; decodeErrors: number } {
    return { decodedPackets: this.decoded, decodeErrors: this.errors };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.delete();
  }
}
