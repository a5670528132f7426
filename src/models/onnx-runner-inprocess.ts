import * as ort from 'onnxruntime-node';
import type { Feeds, OnnxRunner, TensorData } from '../contracts/models.js';

/** ONNX Runtime in the calling thread: for training, evaluation and tests. The server uses the worker pool. */
export async function createInProcessRunner(
  model: string | Uint8Array,
  options: { intraOpThreads?: number; executionProvider?: 'cpu' | 'cuda' | 'webgpu' } = {},
): Promise<OnnxRunner> {
  const provider = options.executionProvider ?? 'cpu';
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
  };
  const session = typeof model === 'string'
    ? await ort.InferenceSession.create(model, sessionOptions)
    : await ort.InferenceSession.create(model, sessionOptions);
  return {
    provider,
    async run(feeds: Feeds): Promise<Record<string, TensorData>> {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
      const out = await session.run(ortFeeds);
      const result: Record<string, TensorData> = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
      }
      return result;
    },
    async dispose() {
      await session.release();
    },
  };
}
