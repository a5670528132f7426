import { workerData } from 'node:worker_threads';
import { serve, type ServeContext } from '../runtime/serve.js';
import type { SpeechModel, SpeechStream } from '../contracts/models.js';
import { createInProcessRunner } from '../models/onnx-runner-inprocess.js';
import { loadSpeechModel } from '../models/speech/index.js';
import { isVoicedStream } from '../models/speech/voiced-stream.js';

/**
 * One feature worker: holds the speech front-end streams (incremental log-mel + speaker normaliser, or raw-audio
 * history) of the sessions assigned to it, so their per-frame work runs off the server's event loop. The streams
 * are created by the speech model's own `createStream()` (the model is loaded here from the same directory), so
 * their windows are exactly those the main thread would build. Main sends one message per event-loop turn with
 * every session's new audio packed in one transferred buffer and the ops in arrival order.
 */
export type FeatureOp =
  | { t: 'open'; sid: number }
  | { t: 'push'; sid: number; off: number; len: number }
  | { t: 'window'; sid: number; req: number; endSample: number; windowSamples: number }
  | { t: 'close'; sid: number };

/** Started with (workerData): the speech model's directory; undefined = the default. */
export interface FeatureWorkerData { speechDir?: string }

export interface FeatureRequest { op: 'batch'; id: number; ops: FeatureOp[]; audio: Float32Array }

export interface FeatureResponse {
  op: 'done'; id: number; samples: number;
  /** A window built by a voiced stream carries `speechRatio` (share of its VAD chunks with speech). */
  windows: { req: number; window: unknown; error?: string }[];
  errors: { sid: number; error: string }[];
}

let model: SpeechModel | null = null;
const streams = new Map<number, SpeechStream<unknown>>();

/** The ArrayBuffers of a window's typed-array fields (transferred, not copied; each window owns fresh buffers). */
function buffersOf(window: unknown): ArrayBuffer[] {
  if (!window || typeof window !== 'object') return [];
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(window)) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
  return out;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Loads the speech model; its name goes back to the channel's start(), a failure with its reason. */
async function init(speechDir?: string): Promise<string> {
  const m = await loadSpeechModel({ dir: speechDir, runnerFactory: (p) => createInProcessRunner(p) });
  const status = m.status();
  if (!status.available) throw new Error(status.error ?? 'speech model unavailable');
  model = m;
  return m.name;
}

async function batch(req: FeatureRequest, ctx: ServeContext): Promise<FeatureResponse> {
  const windows: { req: number; window: unknown; error?: string }[] = [];
  const ratios: Promise<void>[] = [];
  const errors: { sid: number; error: string }[] = [];
  const transfer = new Set<ArrayBuffer>();
  for (const op of req.ops) {
    if (op.t === 'open') {
      if (model) streams.set(op.sid, model.createStream());
      else errors.push({ sid: op.sid, error: 'feature worker has no speech model' });
    } else if (op.t === 'push') {
      const s = streams.get(op.sid);
      try {
        s?.push(req.audio.subarray(op.off, op.off + op.len));
      } catch (err) {
        errors.push({ sid: op.sid, error: message(err) });
      }
    } else if (op.t === 'window') {
      const s = streams.get(op.sid);
      try {
        const w = s ? s.window(op.endSample, op.windowSamples) : null;
        for (const b of buffersOf(w)) transfer.add(b);
        windows.push({ req: op.req, window: w });
        // The detector runs over the audio queued so far (later pushes of this batch included: it is causal, and only
        // the window's own chunks are counted). The window goes back with its ratio, or without it if the VAD failed.
        if (w && typeof w === 'object' && isVoicedStream(s)) {
          ratios.push(s.speechRatio(op.endSample - op.windowSamples, op.endSample).then((r) => { (w as { speechRatio?: number }).speechRatio = r; }, (err: unknown) => {
            errors.push({ sid: op.sid, error: `voice activity detector failed: ${message(err)}` });
          }));
        }
      } catch (err) {
        windows.push({ req: op.req, window: null, error: message(err) });
      }
    } else {
      streams.get(op.sid)?.close?.();
      streams.delete(op.sid);
    }
  }
  await Promise.all(ratios);
  ctx.transfer(...transfer);
  return { op: 'done', id: req.id, samples: req.audio.length, windows, errors };
}

// Batches run in arrival order up to their voice-activity awaits; each answers when its windows' ratios are in.
serve<FeatureRequest>({ init: () => init((workerData as FeatureWorkerData | undefined)?.speechDir), handle: batch });
