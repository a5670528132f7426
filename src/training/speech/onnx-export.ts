import { OnnxGraphBuilder } from '../../onnx/builder.js';
import type { SpeechNetConfig, WeightMap } from './net.js';

export const FEATURE_INPUT = 'features';
export const LOGITS_OUTPUT = 'logits';

/**
 * Exports the temporal CNN as ONNX: features [batch, frames, melBands] -> logits [batch, numClasses].
 * Each shifted-slice convolution of the TF.js model becomes a 1-D Conv with weight[o][c][j] = W[j * Cin + c][o].
 */
export function exportSpeechNetOnnx(cfg: SpeechNetConfig, weights: WeightMap, docString = ''): Uint8Array {
  const g = new OnnxGraphBuilder('emostream_speech_tcn');
  const get = (name: string) => {
    const w = weights[name];
    if (!w) throw new Error(`ONNX export: weight '${name}' missing`);
    return w;
  };
  const x = g.input(FEATURE_INPUT, ['batch', cfg.frames, cfg.melBands]);
  const steps = Math.floor(cfg.frames / cfg.stack);
  let h = x;
  if (steps * cfg.stack !== cfg.frames) {
    h = g.op('Slice', [h, g.constInt64('crop_start', [0]), g.constInt64('crop_end', [steps * cfg.stack]), g.constInt64('crop_axis', [1])]);
  }
  h = g.op('Reshape', [h, g.constInt64('stack_shape', [0, steps, cfg.stack * cfg.melBands])]);
  h = g.op('Transpose', [h], { perm: [0, 2, 1] }); // [B, C, T] for Conv
  let cin = cfg.melBands * cfg.stack;
  cfg.convs.forEach((c, i) => {
    const w = get(`conv${i}.w`).data;
    const k = c.kernel, cout = c.channels;
    const onnxW = new Float32Array(cout * cin * k);
    for (let o = 0; o < cout; o++) for (let ci = 0; ci < cin; ci++) for (let j = 0; j < k; j++) {
      onnxW[(o * cin + ci) * k + j] = w[(j * cin + ci) * cout + o];
    }
    const half = (k - 1) >> 1;
    h = g.op('Conv', [h, g.constFloat(`conv${i}_w`, onnxW, [cout, cin, k]), g.constFloat(`conv${i}_b`, get(`conv${i}.b`).data, [cout])],
      { kernel_shape: [k], pads: [half, k - 1 - half] });
    h = g.op('Relu', [h]);
    if (c.pool > 1) h = g.op('AveragePool', [h], { kernel_shape: [c.pool], strides: [c.pool] });
    cin = cout;
  });
  let pooled: string;
  if (cfg.pooling === 'attention') {
    const ht = g.op('Transpose', [h], { perm: [0, 2, 1] }); // [B, T, C]
    const a = g.op('Tanh', [g.op('Add', [g.op('MatMul', [ht, g.constFloat('att_w', get('att.w').data, get('att.w').shape)]), g.constFloat('att_b', get('att.b').data, [cfg.attentionDim])])]);
    const scores = g.op('MatMul', [a, g.constFloat('att_v', get('att.v').data, get('att.v').shape)]); // [B, T, 1]
    const weightsOverTime = g.op('Softmax', [scores], { axis: 1 });
    pooled = g.op('ReduceSum', [g.op('Mul', [ht, weightsOverTime]), g.constInt64('time_axis', [1])], { keepdims: 0 });
  } else {
    const mean = g.op('ReduceMean', [h], { axes: [2], keepdims: 0 });
    const max = g.op('ReduceMax', [h], { axes: [2], keepdims: 0 });
    pooled = g.op('Concat', [mean, max], { axis: 1 });
  }
  const outW = get('out.w');
  g.op('Gemm', [pooled, g.constFloat('out_w', outW.data, outW.shape), g.constFloat('out_b', get('out.b').data, [cfg.numClasses])], {}, LOGITS_OUTPUT);
  g.output(LOGITS_OUTPUT, ['batch', cfg.numClasses]);
  return g.toBytes(docString);
}
