import type { NormStats } from '../../features/speaker-norm.js';
import type { SpeechItem } from './dataset.js';
import type { SpeechNetConfig, WeightMap } from './net.js';
import type { TrainConfig } from './train.js';
import type { StreamingEvalOptions, WindowPrediction } from './streaming-eval.js';

/** Work a training worker can do. Items are named by their index in the dataset the worker was given. */
export type WorkerTask =
  /** Train one network on `trainIdx`, then predict the clip posteriors of `predictIdx`. */
  | { kind: 'train'; trainIdx: number[]; predictIdx: number[]; cfg: TrainConfig }
  /** Streaming per-window evaluation of an ensemble (mean posterior of `members`) on `itemIdx`. */
  | { kind: 'stream'; itemIdx: number[]; net: SpeechNetConfig; members: WeightMap[]; opts: StreamingEvalOptions };

export type WorkerTaskResult =
  | { kind: 'train'; weights: WeightMap; probs: Float32Array[]; seconds: number }
  | { kind: 'stream'; windows: WindowPrediction[]; seconds: number };

export type WorkerRequest =
  | { type: 'init'; items: SpeechItem[]; actorStats: [number, NormStats][] }
  | { type: 'task'; id: number; task: WorkerTask };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'progress'; id: number; epoch: number; epochs: number; batch: number; batches: number; loss: number }
  | { type: 'done'; id: number; result: WorkerTaskResult }
  | { type: 'error'; id: number; message: string; stack?: string };
