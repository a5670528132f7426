import sharp, { type Metadata, type Sharp } from 'sharp';
import type { VideoFrameInput } from '../contracts/models.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { i420ByteLength, i420ToRgb } from './i420.js';

export interface FrameLimits {
  maxFrameBytes: number;
  maxFramePixels: number;
  maxAnalysisSidePx: number;
}

/** A frame decoded to packed RGB at analysis resolution; `scale` maps analysis pixels back to the sender's pixels. */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  scale: number;
  /** The frame's size as sent. */
  sourceWidth: number;
  sourceHeight: number;
}

function checkDeclaredSize(frame: VideoFrameInput, limits: FrameLimits): void {
  const { width, height } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `declared frame size ${width}x${height} is not a pair of non-negative integers`);
  }
  if (width * height > limits.maxFramePixels) {
    throw new ProtocolError('EMO_ERR_VIDEO_TOO_LARGE', `frame ${width}x${height} exceeds the limit of ${limits.maxFramePixels} pixels`);
  }
}

/**
 * Validates and decodes one frame with sharp (libvips), downscaled so its longer side is at most maxAnalysisSidePx.
 * Every refusal is a ProtocolError with a specific catalogue code; nothing here can take the process down.
 */
export async function decodeFrame(frame: VideoFrameInput, limits: FrameLimits): Promise<RgbImage> {
  const bytes = frame.payload;
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('EMO_ERR_VIDEO_FORMAT', 'frame payload must be a Uint8Array');
  if (bytes.byteLength === 0) throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `empty ${frame.format} frame (0 bytes)`);
  if (bytes.byteLength > limits.maxFrameBytes) {
    throw new ProtocolError('EMO_ERR_VIDEO_TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds the limit of ${limits.maxFrameBytes} bytes`);
  }
  checkDeclaredSize(frame, limits);
  let input: Sharp;
  let sourceWidth = frame.width;
  let sourceHeight = frame.height;
  switch (frame.format) {
    case 'jpeg': {
      let meta: Metadata;
      try {
        meta = await sharp(bytes, { limitInputPixels: limits.maxFramePixels }).metadata();
      } catch (err) {
        throw new ProtocolError('EMO_ERR_VIDEO_DECODE', `not a decodable JPEG: ${(err as Error).message}`);
      }
      if (meta.format !== 'jpeg') throw new ProtocolError('EMO_ERR_VIDEO_FORMAT', `payload is ${meta.format ?? 'unknown'}, not JPEG`);
      if (!meta.width || !meta.height) throw new ProtocolError('EMO_ERR_VIDEO_DECODE', 'JPEG without dimensions');
      // A JPEG carries its own size; a declared size of 0x0 means "not declared".
      if ((frame.width !== 0 || frame.height !== 0) && (frame.width !== meta.width || frame.height !== meta.height)) {
        throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `declared ${frame.width}x${frame.height} but the JPEG is ${meta.width}x${meta.height}`);
      }
      if (meta.width * meta.height > limits.maxFramePixels) {
        throw new ProtocolError('EMO_ERR_VIDEO_TOO_LARGE', `JPEG ${meta.width}x${meta.height} exceeds the limit of ${limits.maxFramePixels} pixels`);
      }
      sourceWidth = meta.width;
      sourceHeight = meta.height;
      input = sharp(bytes, { limitInputPixels: limits.maxFramePixels, failOn: 'error' });
      break;
    }
    case 'rgba': {
      if (frame.width === 0 || frame.height === 0) throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `raw RGBA frame needs a declared size, got ${frame.width}x${frame.height}`);
      const expected = frame.width * frame.height * 4;
      if (bytes.byteLength !== expected) {
        throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `RGBA ${frame.width}x${frame.height} needs ${expected} bytes, got ${bytes.byteLength}`);
      }
      input = sharp(bytes, { raw: { width: frame.width, height: frame.height, channels: 4 } });
      break;
    }
    case 'i420': {
      if (frame.width === 0 || frame.height === 0) throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `raw I420 frame needs a declared size, got ${frame.width}x${frame.height}`);
      const expected = i420ByteLength(frame.width, frame.height);
      if (bytes.byteLength !== expected) {
        throw new ProtocolError('EMO_ERR_VIDEO_SIZE', `I420 ${frame.width}x${frame.height} needs ${expected} bytes, got ${bytes.byteLength}`);
      }
      input = sharp(i420ToRgb(bytes, frame.width, frame.height), { raw: { width: frame.width, height: frame.height, channels: 3 } });
      break;
    }
    default:
      throw new ProtocolError('EMO_ERR_VIDEO_FORMAT', `unknown video format '${String((frame as { format: unknown }).format)}' (jpeg, i420, rgba)`);
  }
  const longSide = Math.max(sourceWidth, sourceHeight);
  const scale = longSide > limits.maxAnalysisSidePx ? longSide / limits.maxAnalysisSidePx : 1;
  if (scale > 1) input = input.resize({ width: Math.round(sourceWidth / scale), height: Math.round(sourceHeight / scale), fit: 'fill' });
  try {
    const { data, info } = await input.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return {
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      scale: sourceWidth / info.width,
      sourceWidth,
      sourceHeight,
    };
  } catch (err) {
    throw new ProtocolError('EMO_ERR_VIDEO_DECODE', `cannot decode ${frame.format} frame: ${(err as Error).message}`);
  }
}
