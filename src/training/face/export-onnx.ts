import { OnnxGraphBuilder } from '../../onnx/builder.js';
import { AU_VECTOR_LENGTH, NUM_EMOTIONS } from '../../protocol/labels.js';
import type { DenseLayer } from './mlp.js';

/** Input and output names of the static face model's ONNX graph. */
export const STATIC_INPUT = 'aus_norm';
export const STATIC_OUTPUT = 'probs';

/**
 * The trained MLP as ONNX: [batch, 35] min-max-normalised clip/window-mean AUs -> Gemm+ReLU per hidden layer ->
 * Gemm -> Softmax -> [batch, 8]. The normaliser stays outside the graph (normaliser.json), shared with training.
 */
export function exportMlpOnnx(layers: DenseLayer[], docString = ''): Uint8Array {
  const g = new OnnxGraphBuilder('emostream_face_static_mlp');
  let h = g.input(STATIC_INPUT, ['batch', AU_VECTOR_LENGTH]);
  layers.forEach((l, i) => {
    const w = g.constFloat(`dense${i}_w`, l.w, [l.inDim, l.outDim]);
    const b = g.constFloat(`dense${i}_b`, l.b, [l.outDim]);
    h = g.op('Gemm', [h, w, b]);
    if (i < layers.length - 1) h = g.op('Relu', [h]);
  });
  if (layers[layers.length - 1].outDim !== NUM_EMOTIONS) throw new Error('exportMlpOnnx: last layer must have 8 outputs');
  g.op('Softmax', [h], { axis: -1 }, STATIC_OUTPUT);
  g.output(STATIC_OUTPUT, ['batch', NUM_EMOTIONS]);
  return g.toBytes(docString);
}
