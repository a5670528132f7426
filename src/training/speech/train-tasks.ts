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

/** What each training worker starts with (workerData): the dataset, sent once. */
export interface WorkerInit { items: SpeechItem[]; actorStats: [number, NormStats][] }

/** One task, over the worker's channel; answered with its WorkerTaskResult or its error. */
export interface WorkerRequest { id: number; task: WorkerTask }

/** Emitted while a task trains (throttled): the main thread draws its progress bar from these. */
export interface WorkerProgress { type: 'progress'; id: number; epoch: number; epochs: number; batch: number; batches: number; loss: number }
