/** IVF container framing for VP8 (what ffmpeg's `-f ivf` demuxer reads from a pipe). */
export function ivfFileHeader(width: number, height: number, timebaseDen = 1000): Buffer {
  const b = Buffer.alloc(32);
  b.write('DKIF', 0, 'latin1');
  b.writeUInt16LE(0, 4);
  b.writeUInt16LE(32, 6);
  b.write('VP80', 8, 'latin1');
  b.writeUInt16LE(width, 12);
  b.writeUInt16LE(height, 14);
  b.writeUInt32LE(timebaseDen, 16);
  b.writeUInt32LE(1, 20);
  b.writeUInt32LE(0, 24);
  return b;
}

export function ivfFrameHeader(frameBytes: number, pts: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(frameBytes, 0);
  b.writeBigUInt64LE(BigInt(Math.max(0, Math.round(pts))), 4);
  return b;
}
