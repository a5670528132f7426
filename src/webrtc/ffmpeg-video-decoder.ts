import ffmpeg from 'fluent-ffmpeg';
import { PassThrough } from 'node:stream';
import { ivfFileHeader, ivfFrameHeader } from './ivf.js';
import { Y4mParser, type Y4mFrame } from './y4m-parser.js';

export type VideoCodecName = 'vp8' | 'h264';

export interface FfmpegVideoDecoderOptions<Tag> {
  codec: VideoCodecName;
  /** Every decoded picture is scaled (aspect kept, padded) to this canvas, so the output size never changes mid-stream. */
  width: number;
  height: number;
  onFrame: (frame: Y4mFrame, tag: Tag) => void;
  /** Asked as each decoded picture starts, with its tag: false skips it without allocating (decimation). */
  wantFrame?: (tag: Tag) => boolean;
  /** The decoder process failed (not called after close()). */
  onError?: (err: Error) => void;
  /** Frames in the decoder at most; past this, frames are dropped up to the next keyframe (default 30, 1 s at 30 fps, which also covers process start). */
  maxInFlight?: number;
  ffmpegPath?: string;
}

export interface FfmpegVideoDecoderStats {
  framesIn: number;
  framesOut: number;
  /** Frames dropped because the decoder fell behind (dropped up to the next keyframe, which is then required). */
  framesDropped: number;
  inFlight: number;
}

/**
 * One ffmpeg process per video track (fluent-ffmpeg; ffmpeg from Debian): depacketised VP8 (in IVF framing) or H264
 * (Annex B) in on stdin, fixed-size I420 pictures (YUV4MPEG2) out on stdout. Single-threaded, no input buffering and
 * a flush per picture, so a frame comes out as soon as it is decoded. Frames map to tags in order (one picture per
 * coded frame); a frame the decoder rejects shifts later tags by one frame, which the caller's decimation absorbs.
 */
export class FfmpegVideoDecoder<Tag> {
  private readonly input = new PassThrough();
  private readonly output = new PassThrough();
  private readonly parser: Y4mParser;
  private readonly pending: Tag[] = [];
  private readonly maxInFlight: number;
  private command: ffmpeg.FfmpegCommand;
  private dropping = false;
  private closed = false;
  private s = { framesIn: 0, framesOut: 0, framesDropped: 0 };
  private headerWritten = false;

  constructor(private readonly opts: FfmpegVideoDecoderOptions<Tag>) {
    this.maxInFlight = opts.maxInFlight ?? 30;
    this.parser = new Y4mParser(() => {
      const tag = this.pending[0];
      return tag === undefined || !opts.wantFrame ? true : opts.wantFrame(tag);
    });
    const { width, height } = opts;
    const cmd = ffmpeg({ stdoutLines: 0 })
      .input(this.input)
      .inputFormat(opts.codec === 'vp8' ? 'ivf' : 'h264')
      .inputOptions(['-flags', 'low_delay', '-probesize', '32', '-analyzeduration', '0', '-threads', '1'])
      .videoFilters([
        `scale=${width}:${height}:force_original_aspect_ratio=decrease:force_divisible_by=2`,
        `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
      ])
      .outputOptions(['-an', '-pix_fmt', 'yuv420p', '-fps_mode', 'passthrough', '-flush_packets', '1', '-threads', '1'])
      .format('yuv4mpegpipe')
      .on('error', (err: Error) => {
        if (!this.closed) this.opts.onError?.(err);
      });
    if (opts.ffmpegPath) cmd.setFfmpegPath(opts.ffmpegPath);
    this.command = cmd;
    this.input.on('error', () => undefined);
    this.output.on('data', (chunk: Buffer) => this.onOutput(chunk));
    cmd.pipe(this.output, { end: true });
  }

  /** Queues one coded frame. Returns false when it was dropped (decoder behind and not a keyframe). */
  decode(data: Buffer, isKeyframe: boolean, ptsMs: number, tag: Tag): boolean {
    if (this.closed) return false;
    if (this.pending.length >= this.maxInFlight) this.dropping = true;
    if (this.dropping) {
      // An inter frame cannot be skipped without corrupting the frames that follow; resume only on a keyframe.
      if (!isKeyframe || this.pending.length >= this.maxInFlight) {
        this.s.framesDropped++;
        return false;
      }
      this.dropping = false;
    }
    this.s.framesIn++;
    this.pending.push(tag);
    if (this.opts.codec === 'vp8') {
      if (!this.headerWritten) {
        this.input.write(ivfFileHeader(this.opts.width, this.opts.height));
        this.headerWritten = true;
      }
      this.input.write(ivfFrameHeader(data.length, ptsMs));
    }
    this.input.write(data);
    return true;
  }

  /** True while frames are being dropped until the next keyframe (the caller should ask the sender for one). */
  get needsKeyframe(): boolean {
    return this.dropping;
  }

  stats(): FfmpegVideoDecoderStats {
    return { ...this.s, inFlight: this.pending.length };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    this.input.end();
    // ffmpeg exits on end of input; make sure it does not linger if it is stuck.
    const timer = setTimeout(() => this.command.kill('SIGKILL'), 2000);
    timer.unref();
    this.command.on('end', () => clearTimeout(timer));
    this.command.on('error', () => clearTimeout(timer));
  }

  private onOutput(chunk: Buffer): void {
    let frames: Y4mFrame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      if (!this.closed) this.opts.onError?.(err as Error);
      this.close();
      return;
    }
    for (const f of frames) {
      const tag = this.pending.shift();
      this.s.framesOut++;
      if (tag !== undefined && !this.closed && !f.skipped) this.opts.onFrame(f, tag);
    }
  }
}
