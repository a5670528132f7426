import sharp from 'sharp';
import type { Box } from './box.js';
import type { RgbImage } from './decode.js';

/**
 * Image resampling for the networks, done by libvips (sharp) on the decoded RGB frame: TensorFlow.js's wasm
 * resizeBilinear/cropAndResize on a full frame cost 7-12 ms per call here, libvips ~1 ms.
 */

/** The whole frame resized to size x size (aspect not kept, as BlazeFace's reference pipeline does), packed RGB. */
export async function resizeFrame(img: RgbImage, size: number): Promise<Uint8Array> {
  const buf = await sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The box (analysis pixels; may reach outside the frame) cut out and resized to size x size, packed RGB. Outside
 * the frame is black, like tf.image.cropAndResize's extrapolation value. Null when the box does not touch the frame.
 */
export async function cropResize(img: RgbImage, box: Box, size: number): Promise<Uint8Array | null> {
  const x0 = Math.round(box.x0), y0 = Math.round(box.y0);
  const w = Math.max(1, Math.round(box.x1 - box.x0)), h = Math.max(1, Math.round(box.y1 - box.y0));
  const ix0 = Math.max(0, x0), iy0 = Math.max(0, y0);
  const ix1 = Math.min(img.width, x0 + w), iy1 = Math.min(img.height, y0 + h);
  if (ix1 <= ix0 || iy1 <= iy0) return null;
  let pipeline = sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } }).extract({ left: ix0, top: iy0, width: ix1 - ix0, height: iy1 - iy0 });
  if (ix0 !== x0 || iy0 !== y0 || ix1 !== x0 + w || iy1 !== y0 + h) {
    // Materialise the extract first: libvips applies extend before extract within one pipeline.
    const inner = await pipeline.raw().toBuffer();
    pipeline = sharp(inner, { raw: { width: ix1 - ix0, height: iy1 - iy0, channels: 3 } }).extend({
      left: ix0 - x0,
      top: iy0 - y0,
      right: x0 + w - ix1,
      bottom: y0 + h - iy1,
      background: { r: 0, g: 0, b: 0 },
    });
    const padded = await pipeline.raw().toBuffer();
    pipeline = sharp(padded, { raw: { width: w, height: h, channels: 3 } });
  }
  const buf = await pipeline.resize(size, size, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
