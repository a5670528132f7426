export interface Y4mFrame {
  width: number;
  height: number;
  /** One I420 picture: full-size Y plane, then quarter-size U and V planes. */
  i420: Buffer;
  /** The caller said it does not want this picture: `i420` is a scratch buffer reused for the next skipped one. */
  skipped: boolean;
}

/**
 * Incremental parser for a YUV4MPEG2 stream (ffmpeg's `-f yuv4mpegpipe`): a header line with the picture size, then
 * `FRAME...\n` + one raw 4:2:0 picture per frame. Chosen over bare rawvideo because it is self-describing and its
 * framing is checked. Pure: feed it chunks, get whole frames back.
 */
export class Y4mParser {
  private width = 0;
  private height = 0;
  private frameBytes = 0;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private state: 'header' | 'frame-line' | 'payload' = 'header';
  private payload: Buffer | null = null;
  private skipping = false;
  private scratch: Buffer | null = null;
  private filled = 0;

  /** `want()` is asked as each picture starts; pictures it declines are read into one reused buffer (no allocation). */
  constructor(private readonly want: () => boolean = () => true) {}

  push(chunk: Buffer): Y4mFrame[] {
    const frames: Y4mFrame[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.state === 'payload') {
        const take = Math.min(this.frameBytes - this.filled, chunk.length - off);
        chunk.copy(this.payload!, this.filled, off, off + take);
        this.filled += take;
        off += take;
        if (this.filled === this.frameBytes) {
          frames.push({ width: this.width, height: this.height, i420: this.payload!, skipped: this.skipping });
          this.payload = null;
          this.state = 'frame-line';
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, off);
      const end = nl === -1 ? chunk.length : nl;
      this.lineBytes += end - off;
      if (this.lineBytes > 1024) throw new Error('Y4M: header or frame line longer than 1024 bytes');
      this.line.push(chunk.subarray(off, end));
      if (nl === -1) break;
      off = nl + 1;
      const text = Buffer.concat(this.line).toString('latin1');
      this.line = [];
      this.lineBytes = 0;
      if (this.state === 'header') this.parseHeader(text);
      else if (text.startsWith('FRAME')) {
        this.state = 'payload';
        this.skipping = !this.want();
        if (this.skipping) this.payload = this.scratch ??= Buffer.allocUnsafe(this.frameBytes);
        else this.payload = Buffer.allocUnsafe(this.frameBytes);
        this.filled = 0;
      } else throw new Error(`Y4M: expected FRAME, got ${JSON.stringify(text.slice(0, 20))}`);
    }
    return frames;
  }

  private parseHeader(text: string): void {
    const parts = text.split(' ');
    if (parts[0] !== 'YUV4MPEG2') throw new Error('Y4M: stream does not start with YUV4MPEG2');
    for (const p of parts.slice(1)) {
      if (p[0] === 'W') this.width = Number(p.slice(1));
      else if (p[0] === 'H') this.height = Number(p.slice(1));
      else if (p[0] === 'C' && !p.startsWith('C420')) throw new Error(`Y4M: colour space ${p.slice(1)} is not 4:2:0`);
    }
    if (!(this.width > 0 && this.height > 0)) throw new Error('Y4M: header has no valid W/H');
    this.frameBytes = this.width * this.height + 2 * Math.ceil(this.width / 2) * Math.ceil(this.height / 2);
    this.state = 'frame-line';
  }
}
