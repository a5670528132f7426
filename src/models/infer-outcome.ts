export type { InferOutcome } from '../contracts/models.js';

/** Thrown (rejected) for a window the batcher dropped because the model fell behind real time. */
export class WindowDroppedError extends Error {
  constructor(model: string) {
    super(`${model}: window dropped, inference queue full (falling behind real time)`);
    this.name = 'WindowDroppedError';
  }
}
