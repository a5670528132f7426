import { AU_INTENSITY_COLUMNS, AU_VECTOR_LENGTH } from '../labels.js';
import { ProtocolError } from './errors.js';

/**
 * Binary media frames, all little-endian. Fixed 16-byte header, then a kind-specific sub-header, then the payload:
 *
 *   offset size field
 *   0      1    version (FRAME_VERSION = 1)
 *   1      1    kind (FrameKind)
 *   2      2    streamId (u16; the client's own numbering, echoed in errors)
 *   4      4    seq (u32, per stream)
 *   8      8    ptsUs (i64, presentation time of the first sample / the frame, microseconds, client clock)
 *
 * Audio sub-header (8 bytes): sampleRate u32, channels u8, 3 reserved bytes (0).
 * Video sub-header (8 bytes): width u16, height u16, 4 reserved bytes (0).
 * AU frames have no sub-header: the payload is exactly 35 float32 (AU_COLUMNS order).
 */
export const FRAME_VERSION = 1;
export const HEADER_BYTES = 16;
export const AUDIO_SUBHEADER_BYTES = 8;
export const VIDEO_SUBHEADER_BYTES = 8;

export enum FrameKind {
  PcmS16 = 1,
  PcmF32 = 2,
  Au = 3,
  /** Encoded video frame (JPEG). Decoded by the video analyzer (src/face). */
  VideoJpeg = 4,
  VideoI420 = 5,
  VideoRgba = 6,
}

export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;
export const MAX_VIDEO_SIDE = 4096;
/** AU intensities (`_r` columns) are 0-5 and presences (`_c`) 0-1, OpenFace's scales (src/face/au-definitions.ts). */
export const AU_INTENSITY_MAX = 5;
export const AU_PRESENCE_MAX = 1;
/**
 * Float audio is [-1, 1]; a little overshoot (resampling and codec ringing of a full-scale signal, float mixing)
 * is tolerated, anything beyond is refused rather than clipped, since it says the sender's scaling is wrong.
 */
export const FLOAT_AUDIO_TOLERANCE = 0.01;
/**
 * ptsUs is an i64 on the wire but the server counts time in doubles: beyond 2^53 µs (~285 years) a timestamp is no
 * longer an exact integer, so such frames are refused (EMO_ERR_OUT_OF_RANGE) instead of being rounded.
 */
export const MAX_ABS_PTS_US = Number.MAX_SAFE_INTEGER;

export interface FrameHeader {
  version: number;
  kind: FrameKind;
  streamId: number;
  seq: number;
  ptsUs: number;
}

export interface AudioFrame extends FrameHeader {
  kind: FrameKind.PcmS16 | FrameKind.PcmF32;
  sampleRate: number;
  channels: 1 | 2;
  /** Interleaved samples in [-1, 1] (s16 converted by /32768). */
  samples: Float32Array;
}

export interface AuFrame extends FrameHeader {
  kind: FrameKind.Au;
  aus: Float32Array;
}

export interface VideoFrame extends FrameHeader {
  kind: FrameKind.VideoJpeg | FrameKind.VideoI420 | FrameKind.VideoRgba;
  format: 'jpeg' | 'i420' | 'rgba';
  width: number;
  height: number;
  payload: Uint8Array;
}

export type MediaFrame = AudioFrame | AuFrame | VideoFrame;

/** Bytes a raw video frame of this format and size must carry (I420: full luma + two quarter chroma planes). */
export function rawVideoBytes(format: 'i420' | 'rgba', width: number, height: number): number {
  if (format === 'rgba') return width * height * 4;
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  return width * height + 2 * cw * ch;
}

/**
 * Parses and validates one binary frame. Throws ProtocolError with a specific code; never returns a frame with
 * non-finite values. `maxFrameBytes` is the hard limit on the whole frame.
 */
export function decodeFrame(buf: Uint8Array, maxFrameBytes: number): MediaFrame {
  if (buf.byteLength > maxFrameBytes) {
    throw new ProtocolError('EMO_ERR_FRAME_TOO_LARGE', `frame of ${buf.byteLength} bytes exceeds the ${maxFrameBytes}-byte limit`);
  }
  if (buf.byteLength < HEADER_BYTES) {
    throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', `frame of ${buf.byteLength} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION) {
    throw new ProtocolError('EMO_ERR_FRAME_VERSION', `frame header version ${version}, this server speaks ${FRAME_VERSION}`);
  }
  const kind = view.getUint8(1);
  const header = {
    version,
    streamId: view.getUint16(2, true),
    seq: view.getUint32(4, true),
    ptsUs: checkPtsUs(view.getBigInt64(8, true)),
  };
  switch (kind) {
    case FrameKind.PcmS16:
    case FrameKind.PcmF32:
      return decodeAudio(buf, view, { ...header, kind });
    case FrameKind.Au:
      return decodeAu(buf, { ...header, kind });
    case FrameKind.VideoJpeg:
    case FrameKind.VideoI420:
    case FrameKind.VideoRgba:
      return decodeVideo(buf, view, { ...header, kind });
    default:
      throw new ProtocolError('EMO_ERR_UNKNOWN_KIND', `unknown frame kind ${kind}; known kinds: 1 pcm_s16le, 2 pcm_f32le, 3 au, 4 jpeg, 5 i420, 6 rgba`);
  }
}

function checkPtsUs(raw: bigint): number {
  if (raw > BigInt(MAX_ABS_PTS_US) || raw < -BigInt(MAX_ABS_PTS_US)) {
    throw new ProtocolError('EMO_ERR_OUT_OF_RANGE', `ptsUs ${raw} outside ±${MAX_ABS_PTS_US} (2^53 - 1, exact integer microseconds)`);
  }
  return Number(raw);
}

/**
 * The one rule for an audio format, whichever transport carried it (the WebSocket codec, the session API for WebRTC
 * and plugins): an integer rate of 8-48 kHz, mono or interleaved stereo. Throws EMO_ERR_SAMPLE_RATE.
 */
export function checkAudioFormat(sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new ProtocolError('EMO_ERR_SAMPLE_RATE', `sample rate ${sampleRate} Hz outside ${MIN_SAMPLE_RATE}-${MAX_SAMPLE_RATE} Hz`);
  }
  if (channels !== 1 && channels !== 2) {
    throw new ProtocolError('EMO_ERR_SAMPLE_RATE', `${channels} channels; audio must be mono or interleaved stereo`);
  }
}

/**
 * Throws EMO_ERR_NON_FINITE / EMO_ERR_OUT_OF_RANGE for a float sample outside [-1, 1] (plus FLOAT_AUDIO_TOLERANCE).
 * The one range check of float audio: the WebSocket codec and the session API (WebRTC, plugins) both call it.
 */
export function checkFloatAudio(samples: Float32Array): void {
  const limit = 1 + FLOAT_AUDIO_TOLERANCE;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (v >= -limit && v <= limit) continue;
    if (!Number.isFinite(v)) throw new ProtocolError('EMO_ERR_NON_FINITE', `audio sample ${i} is ${v}`);
    throw new ProtocolError('EMO_ERR_OUT_OF_RANGE', `audio sample ${i} is ${v}; float audio must lie in [-1, 1]`);
  }
}

/**
 * Throws for an AU vector of the wrong length or with a non-finite value: what any AU vector must be, client-sent
 * or produced by the server's own video analysis (whose values need not lie in the client ranges).
 */
export function checkFiniteAuVector(aus: ArrayLike<number>): void {
  if (aus.length !== AU_VECTOR_LENGTH) {
    throw new ProtocolError('EMO_ERR_AU_LENGTH', `AU frame carries ${aus.length} values, expected ${AU_VECTOR_LENGTH} (AU01_r..AU45_r, AU01_c..AU45_c)`);
  }
  for (let i = 0; i < AU_VECTOR_LENGTH; i++) {
    if (!Number.isFinite(aus[i])) throw new ProtocolError('EMO_ERR_NON_FINITE', `AU value ${i} is ${aus[i]}`);
  }
}

/** Throws for an AU vector of the wrong length, a non-finite value, or a value outside its documented range. */
export function checkAuVector(aus: ArrayLike<number>): void {
  checkFiniteAuVector(aus);
  for (let i = 0; i < AU_VECTOR_LENGTH; i++) {
    const v = aus[i];
    const max = i < AU_INTENSITY_COLUMNS.length ? AU_INTENSITY_MAX : AU_PRESENCE_MAX;
    if (v >= 0 && v <= max) continue;
    const kind = i < AU_INTENSITY_COLUMNS.length ? 'intensity' : 'presence';
    throw new ProtocolError('EMO_ERR_OUT_OF_RANGE', `AU value ${i} (${kind}) is ${v}; must lie in [0, ${max}]`);
  }
}

/** The frame kind of a video format. */
export function videoFrameKind(format: VideoFrame['format']): VideoFrame['kind'] {
  return format === 'jpeg' ? FrameKind.VideoJpeg : format === 'i420' ? FrameKind.VideoI420 : FrameKind.VideoRgba;
}

/** A frame's label in metrics (`emostream_frames_total{kind}`): the same for the same kind from every transport. */
export function frameKindLabel(kind: FrameKind): string {
  return FrameKind[kind];
}

/**
 * Interleaved PCM handed over by the session API (WebRTC, plugins) as the frame the codec would have decoded: the
 * same checks (format, whole samples, float range), s16 scaled to [-1, 1]. streamId and seq are 0 (no wire header).
 */
export function pcmFrame(samples: Int16Array | Float32Array, sampleRate: number, channels: number, ptsUs: number): AudioFrame {
  checkAudioFormat(sampleRate, channels);
  if (samples.length % channels !== 0) throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'sample count is not a multiple of the channel count');
  const isS16 = samples instanceof Int16Array;
  if (!isS16) checkFloatAudio(samples);
  const interleaved = isS16 ? Float32Array.from(samples, (v) => v / 32768) : samples;
  const kind = isS16 ? FrameKind.PcmS16 : FrameKind.PcmF32;
  return { version: FRAME_VERSION, kind, streamId: 0, seq: 0, ptsUs, sampleRate, channels: channels as 1 | 2, samples: interleaved };
}

/** An AU vector handed over by the session API, checked as the codec checks one from the wire. */
export function auFrame(aus: Float32Array, ptsUs: number): AuFrame {
  checkAuVector(aus);
  return { version: FRAME_VERSION, kind: FrameKind.Au, streamId: 0, seq: 0, ptsUs, aus };
}

/** Int16Array views use the host's byte order; the wire is little-endian. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decodeAudio(buf: Uint8Array, view: DataView, h: FrameHeader & { kind: FrameKind.PcmS16 | FrameKind.PcmF32 }): AudioFrame {
  if (buf.byteLength < HEADER_BYTES + AUDIO_SUBHEADER_BYTES) {
    throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'audio frame shorter than header + 8-byte audio sub-header');
  }
  const sampleRate = view.getUint32(HEADER_BYTES, true);
  const channels = view.getUint8(HEADER_BYTES + 4);
  checkAudioFormat(sampleRate, channels);
  const payloadOffset = HEADER_BYTES + AUDIO_SUBHEADER_BYTES;
  const payloadBytes = buf.byteLength - payloadOffset;
  const bytesPerSample = h.kind === FrameKind.PcmS16 ? 2 : 4;
  if (payloadBytes % (bytesPerSample * channels) !== 0) {
    throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', `audio payload of ${payloadBytes} bytes is not a whole number of ${channels}-channel samples`);
  }
  const n = payloadBytes / bytesPerSample;
  const samples = new Float32Array(n);
  if (h.kind === FrameKind.PcmS16) {
    const start = buf.byteOffset + payloadOffset;
    if (LITTLE_ENDIAN_HOST && start % 2 === 0) {
      // A typed view reads whole samples at once: this runs for every 20 ms chunk of every session.
      const s16 = new Int16Array(buf.buffer, start, n);
      for (let i = 0; i < n; i++) samples[i] = s16[i] / 32768;
    } else {
      for (let i = 0; i < n; i++) samples[i] = view.getInt16(payloadOffset + 2 * i, true) / 32768;
    }
  } else {
    for (let i = 0; i < n; i++) samples[i] = view.getFloat32(payloadOffset + 4 * i, true);
    checkFloatAudio(samples);
  }
  return { ...h, sampleRate, channels: channels as 1 | 2, samples };
}

function decodeAu(buf: Uint8Array, h: FrameHeader & { kind: FrameKind.Au }): AuFrame {
  const payloadBytes = buf.byteLength - HEADER_BYTES;
  if (payloadBytes !== AU_VECTOR_LENGTH * 4) {
    throw new ProtocolError('EMO_ERR_AU_LENGTH', `AU frame carries ${payloadBytes / 4} values, expected ${AU_VECTOR_LENGTH} (AU01_r..AU45_r, AU01_c..AU45_c)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + HEADER_BYTES, payloadBytes);
  const aus = new Float32Array(AU_VECTOR_LENGTH);
  for (let i = 0; i < AU_VECTOR_LENGTH; i++) aus[i] = view.getFloat32(4 * i, true);
  checkAuVector(aus);
  return { ...h, aus };
}

function decodeVideo(buf: Uint8Array, view: DataView, h: FrameHeader & { kind: VideoFrame['kind'] }): VideoFrame {
  if (buf.byteLength < HEADER_BYTES + VIDEO_SUBHEADER_BYTES) {
    throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'video frame shorter than header + 8-byte video sub-header');
  }
  const width = view.getUint16(HEADER_BYTES, true);
  const height = view.getUint16(HEADER_BYTES + 2, true);
  const format = h.kind === FrameKind.VideoJpeg ? 'jpeg' : h.kind === FrameKind.VideoI420 ? 'i420' : 'rgba';
  if (width < 1 || height < 1 || width > MAX_VIDEO_SIDE || height > MAX_VIDEO_SIDE) {
    throw new ProtocolError('EMO_ERR_VIDEO_DIMENSIONS', `video ${width}x${height} outside 1..${MAX_VIDEO_SIDE} per side`);
  }
  const payload = buf.subarray(HEADER_BYTES + VIDEO_SUBHEADER_BYTES);
  if (format !== 'jpeg') {
    const expected = rawVideoBytes(format, width, height);
    if (payload.byteLength !== expected) {
      throw new ProtocolError('EMO_ERR_VIDEO_DIMENSIONS', `${format} ${width}x${height} needs ${expected} payload bytes, got ${payload.byteLength}`);
    }
  } else if (payload.byteLength < 4 || payload[0] !== 0xff || payload[1] !== 0xd8) {
    throw new ProtocolError('EMO_ERR_FRAME_TRUNCATED', 'JPEG payload does not start with an SOI marker');
  }
  return { ...h, format, width, height, payload };
}

function writeHeader(view: DataView, kind: FrameKind, streamId: number, seq: number, ptsUs: number): void {
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, kind);
  view.setUint16(2, streamId, true);
  view.setUint32(4, seq >>> 0, true);
  view.setBigInt64(8, BigInt(Math.round(ptsUs)), true);
}

export interface EncodeHeader {
  streamId?: number;
  seq: number;
  ptsUs: number;
}

/** Encodes PCM audio: Int16Array -> kind 1 (s16le), Float32Array -> kind 2 (f32le). Samples interleaved when stereo. */
export function encodeAudioFrame(h: EncodeHeader, samples: Int16Array | Float32Array, sampleRate: number, channels: 1 | 2): Uint8Array {
  const isS16 = samples instanceof Int16Array;
  const bytes = HEADER_BYTES + AUDIO_SUBHEADER_BYTES + samples.length * (isS16 ? 2 : 4);
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  writeHeader(view, isS16 ? FrameKind.PcmS16 : FrameKind.PcmF32, h.streamId ?? 0, h.seq, h.ptsUs);
  view.setUint32(HEADER_BYTES, sampleRate, true);
  view.setUint8(HEADER_BYTES + 4, channels);
  const off = HEADER_BYTES + AUDIO_SUBHEADER_BYTES;
  if (isS16) for (let i = 0; i < samples.length; i++) view.setInt16(off + 2 * i, samples[i], true);
  else for (let i = 0; i < samples.length; i++) view.setFloat32(off + 4 * i, samples[i], true);
  return out;
}

/** Encodes one AU vector (any length, so tests can send wrong lengths on purpose). */
export function encodeAuFrame(h: EncodeHeader, aus: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + aus.length * 4);
  const view = new DataView(out.buffer);
  writeHeader(view, FrameKind.Au, h.streamId ?? 0, h.seq, h.ptsUs);
  for (let i = 0; i < aus.length; i++) view.setFloat32(HEADER_BYTES + 4 * i, aus[i], true);
  return out;
}

export function encodeVideoFrame(h: EncodeHeader, format: 'jpeg' | 'i420' | 'rgba', width: number, height: number, payload: Uint8Array): Uint8Array {
  const kind = videoFrameKind(format);
  const out = new Uint8Array(HEADER_BYTES + VIDEO_SUBHEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  writeHeader(view, kind, h.streamId ?? 0, h.seq, h.ptsUs);
  view.setUint16(HEADER_BYTES, width, true);
  view.setUint16(HEADER_BYTES + 2, height, true);
  out.set(payload, HEADER_BYTES + VIDEO_SUBHEADER_BYTES);
  return out;
}
