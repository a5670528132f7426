// Binary media frames of protocol v1 (src/protocol/v1/frames.ts): 16-byte header, little-endian.
// version u8 | kind u8 | streamId u16 | seq u32 | ptsUs i64, then a kind-specific sub-header and the payload.

export const FRAME_VERSION = 1;
export const KIND_PCM_F32 = 2;
export const KIND_JPEG = 4;

function header(view, kind, streamId, seq, ptsUs) {
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, kind);
  view.setUint16(2, streamId, true);
  view.setUint32(4, seq >>> 0, true);
  view.setBigInt64(8, BigInt(Math.round(ptsUs)), true);
}

/** Mono float PCM -> kind 2 frame (pcm_f32le) with the 8-byte audio sub-header. */
export function encodePcmF32(streamId, seq, ptsUs, samples, sampleRate) {
  const buf = new ArrayBuffer(24 + samples.length * 4);
  const view = new DataView(buf);
  header(view, KIND_PCM_F32, streamId, seq, ptsUs);
  view.setUint32(16, sampleRate, true);
  view.setUint8(20, 1);
  new Float32Array(buf, 24).set(samples);
  return buf;
}

/** JPEG bytes -> kind 4 frame with the 8-byte video sub-header (width, height). */
export function encodeJpeg(streamId, seq, ptsUs, width, height, jpegBytes) {
  const buf = new ArrayBuffer(24 + jpegBytes.byteLength);
  const view = new DataView(buf);
  header(view, KIND_JPEG, streamId, seq, ptsUs);
  view.setUint16(16, width, true);
  view.setUint16(18, height, true);
  new Uint8Array(buf, 24).set(new Uint8Array(jpegBytes));
  return buf;
}
