/** Bytes of an I420 (YUV 4:2:0 planar) frame: full-size Y plane, then U and V at half resolution (rounded up). */
export function i420ByteLength(width: number, height: number): number {
  const chromaW = Math.ceil(width / 2);
  const chromaH = Math.ceil(height / 2);
  return width * height + 2 * chromaW * chromaH;
}

/**
 * I420 -> packed RGB (BT.601 limited range, what browsers' VideoFrame and most webcams produce).
 * sharp/libvips has no planar-YUV input, so this one loop is written here; integer arithmetic keeps it ~2 ms per VGA frame.
 */
export function i420ToRgb(yuv: Uint8Array, width: number, height: number): Uint8Array {
  const chromaW = Math.ceil(width / 2);
  const uOffset = width * height;
  const vOffset = uOffset + chromaW * Math.ceil(height / 2);
  const rgb = new Uint8Array(width * height * 3);
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);
  let o = 0;
  for (let row = 0; row < height; row++) {
    const chromaRow = (row >> 1) * chromaW;
    for (let col = 0; col < width; col++) {
      const c = 298 * (yuv[row * width + col] - 16);
      const ci = chromaRow + (col >> 1);
      const d = yuv[uOffset + ci] - 128;
      const e = yuv[vOffset + ci] - 128;
      rgb[o++] = clamp((c + 409 * e + 128) >> 8);
      rgb[o++] = clamp((c - 100 * d - 208 * e + 128) >> 8);
      rgb[o++] = clamp((c + 516 * d + 128) >> 8);
    }
  }
  return rgb;
}

/** Packed RGB -> I420 (BT.601 limited range); the inverse of i420ToRgb, used by clients and tests. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const chromaW = Math.ceil(width / 2);
  const chromaH = Math.ceil(height / 2);
  const out = new Uint8Array(i420ByteLength(width, height));
  const uOffset = width * height;
  const vOffset = uOffset + chromaW * chromaH;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = (row * width + col) * 3;
      const r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
      out[row * width + col] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    }
  }
  for (let cr = 0; cr < chromaH; cr++) {
    for (let cc = 0; cc < chromaW; cc++) {
      // Average the 2x2 block (edge blocks may be smaller).
      let r = 0, g = 0, b = 0, n = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const row = cr * 2 + dy, col = cc * 2 + dx;
          if (row >= height || col >= width) continue;
          const i = (row * width + col) * 3;
          r += rgb[i]; g += rgb[i + 1]; b += rgb[i + 2]; n++;
        }
      }
      r /= n; g /= n; b /= n;
      out[uOffset + cr * chromaW + cc] = Math.round(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
      out[vOffset + cr * chromaW + cc] = Math.round(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
    }
  }
  return out;
}
