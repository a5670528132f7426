import prism from 'prism-media';

export const OPUS_RATE = 48000;
const OPUS_HEAD = Buffer.from('OpusHead');
const OPUS_TAGS = Buffer.from('OpusTags');

/**
 * Decodes Opus packets to mono 48 kHz float PCM with prism-media (backed by opusscript here, or @discordjs/opus when
 * installed). prism's decoder is a Transform stream that errors out, and dies, on a corrupt packet; this wrapper keeps
 * the order of packets and their tags, replaces a dead decoder and counts what was lost with it.
 */
export class OpusPcmDecoder<Tag> {
  private decoder!: prism.opus.Decoder;
  private pending: Tag[] = [];
  private decoded = 0;
  private errors = 0;
  private droppedWithDecoder = 0;
  private closed = false;

  constructor(
    private readonly onPcm: (samples: Float32Array, tag: Tag) => void,
    private readonly maxPending = 50,
  ) {
    this.create();
  }

  private create(): void {
    // libopus downmixes to the channel count it is created with, so stereo senders arrive as mono.
    const decoder = new prism.opus.Decoder({ rate: OPUS_RATE, channels: 1, frameSize: 960 });
    const pending: Tag[] = [];
    decoder.on('data', (pcm: Buffer) => {
      const tag = pending.shift();
      if (tag === undefined || this.closed) return;
      this.decoded++;
      this.onPcm(s16leToFloat(pcm), tag);
    });
    decoder.on('error', () => {
      // The stream is destroyed: whatever it still held is gone. Start a fresh one for the next packet.
      this.errors++;
      this.droppedWithDecoder += pending.length;
      pending.length = 0;
      decoder.removeAllListeners('data');
      if (!this.closed && this.decoder === decoder) this.create();
    });
    this.decoder = decoder;
    this.pending = pending;
  }

  /** Queues one Opus packet; `onPcm` is called with its samples and `tag`, in order. Returns false when dropped. */
  decode(packet: Buffer, tag: Tag): boolean {
    if (this.closed) return false;
    if (packet.length >= 8 && (packet.subarray(0, 8).equals(OPUS_HEAD) || packet.subarray(0, 8).equals(OPUS_TAGS))) {
      // prism treats these Ogg headers as metadata and emits nothing, which would shift every later tag.
      this.errors++;
      return false;
    }
    if (this.pending.length >= this.maxPending) {
      // Bounded: if decoding falls this far behind, the newest packet is the one we can least afford to wait for,
      // but dropping it keeps the order; the caller's gap filling accounts for it.
      this.droppedWithDecoder++;
      return false;
    }
    this.pending.push(tag);
    this.decoder.write(packet);
    return true;
  }

  stats(): { decodedPackets: number; decodeErrors: number; packetsDroppedInDecoder: number; pending: number } {
    return { decodedPackets: this.decoded, decodeErrors: this.errors, packetsDroppedInDecoder: this.droppedWithDecoder, pending: this.pending.length };
  }

  close(): void {
    this.closed = true;
    this.pending.length = 0;
    this.decoder.removeAllListeners('data');
    this.decoder.destroy();
  }
}

export function s16leToFloat(pcm: Buffer): Float32Array {
  const n = pcm.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(2 * i) / 32768;
  return out;
}
