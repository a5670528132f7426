/** What one window's trip through a (batched) model returned, with the time it spent queued and in the model. */
export interface InferOutcome {
  probs: Float32Array;
  queueMs: number;
  inferMs: number;
  batchSize: number;
}

/** Thrown (rejected) for a window the batcher dropped because the model fell behind real time. */
export class WindowDroppedError extends Error {
  constructor(model: string) {
    super(`${model}: window dropped, inference queue full (falling behind real time)`);
    this.name = 'WindowDroppedError';
  }
}
