import { createRequire } from 'node:module';

/**
 * libopus as compiled to wasm by the `opusscript` npm package, driven directly. opusscript's handler exchanges PCM
 * with one byte per 16-bit slot (sample i is slots 2i = low byte, 2i + 1 = high byte). Its JavaScript wrapper (and
 * so prism-media's Opus decoder, which loads it) views those slots with `HEAPU16.subarray(ptr, ...)`, a byte pointer
 * used as an element index (opusscript issue #22): the buffers live at twice their malloc'd address, outside the
 * allocation, and once about 28 instances exist in one process (measured here) the views fall off the heap and
 * every call throws "offset is out of bounds". This wrapper speaks the same slot protocol at the allocated
 * addresses, and re-reads the heap views on every call because the heap grows.
 */

interface OpusHandler {
  _decode(inPtr: number, inBytes: number, outPtr: number): number;
  _encode(inPtr: number, inBytes: number, outPtr: number, frameSize: number): number;
  delete(): void;
}
interface OpusModule {
  OpusScriptHandler: new (rate: number, channels: number, application: number) => OpusHandler;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  HEAP16: Int16Array;
}

export const OPUS_APPLICATION_AUDIO = 2049;
const MAX_PACKET_BYTES = 3828;
/** 120 ms at 48 kHz, the longest Opus frame. */
const MAX_FRAME_SAMPLES = 5760;

let shared: OpusModule | null = null;
function opusModule(): OpusModule {
  if (!shared) {
    const require = createRequire(import.meta.url);
    shared = (require('opusscript/build/opusscript_native_wasm.js') as () => OpusModule)();
  }
  return shared;
}

class OpusWasm {
  protected readonly m = opusModule();
  protected readonly handler: OpusHandler;
  protected readonly inPtr: number;
  protected readonly outPtr: number;
  private freed = false;

  constructor(readonly sampleRate: number, readonly channels: number, inBytes: number, outBytes: number) {
    this.handler = new this.m.OpusScriptHandler(sampleRate, channels, OPUS_APPLICATION_AUDIO);
    this.inPtr = this.m._malloc(inBytes);
    this.outPtr = this.m._malloc(outBytes);
  }

  delete(): void {
    if (this.freed) return;
    this.freed = true;
    this.handler.delete();
    this.m._free(this.inPtr);
    this.m._free(this.outPtr);
  }
}

/** One Opus decoder: packet -> interleaved float PCM. Throws on a corrupt packet (libopus error code in the message). */
export class OpusWasmDecoder extends OpusWasm {
  constructor(sampleRate = 48000, channels = 1) {
    // Output: two 16-bit slots per sample.
    super(sampleRate, channels, MAX_PACKET_BYTES, MAX_FRAME_SAMPLES * channels * 4);
  }

  decode(packet: Uint8Array): Float32Array {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) throw new RangeError(`Opus packet of ${packet.length} bytes`);
    this.m.HEAPU8.set(packet, this.inPtr);
    const frames = this.handler._decode(this.inPtr, packet.length, this.outPtr);
    if (frames < 0) throw new Error(`libopus decode error ${frames}`);
    const n = frames * this.channels;
    const slots = this.m.HEAP16.subarray(this.outPtr >> 1, (this.outPtr >> 1) + 2 * n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (((slots[2 * i + 1] << 24) >> 16) | (slots[2 * i] & 0xff)) / 32768;
    return out;
  }
}

/** One Opus encoder (tests and the Node client): 16-bit PCM frame -> packet. */
export class OpusWasmEncoder extends OpusWasm {
  constructor(sampleRate = 48000, channels = 1) {
    // Input: two 16-bit slots per sample, and the handler's in-place repacking loop reads up to twice that far.
    super(sampleRate, channels, MAX_FRAME_SAMPLES * channels * 8, MAX_PACKET_BYTES);
  }

  encode(pcm: Int16Array, frameSize: number): Buffer {
    if (pcm.length > MAX_FRAME_SAMPLES * this.channels) throw new RangeError(`PCM frame of ${pcm.length} samples`);
    const slots = this.m.HEAP16.subarray(this.inPtr >> 1, (this.inPtr >> 1) + 2 * pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      slots[2 * i] = pcm[i] & 0xff;
      slots[2 * i + 1] = (pcm[i] >> 8) & 0xff;
    }
    const bytes = this.handler._encode(this.inPtr, pcm.length * 2, this.outPtr, frameSize);
    if (bytes < 0) throw new Error(`libopus encode error ${bytes}`);
    return Buffer.from(this.m.HEAPU8.subarray(this.outPtr, this.outPtr + bytes));
  }
}
