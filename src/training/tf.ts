import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

let ready: Promise<typeof tf> | null = null;

/**
 * TensorFlow.js on the wasm backend: tfjs-node cannot install on machines without the libtensorflow download,
 * and the pure-JS cpu backend is ~10x slower. Falls back to cpu only when wasm fails to initialise.
 */
export function initTf(backend: 'wasm' | 'cpu' = (process.env.EMOSTREAM_TF_BACKEND as 'wasm' | 'cpu') ?? 'wasm'): Promise<typeof tf> {
  ready ??= (async () => {
    if (backend === 'wasm') {
      const require = createRequire(import.meta.url);
      const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      setWasmPaths(wasmDir + '/');
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend '${backend}' failed to initialise`);
    await tf.ready();
    return tf;
  })();
  return ready;
}

export { tf };
