import { OnnxGraphBuilder } from '../../onnx/builder.js';
import { LAYER_NORM_EPS, type SpeechNetConfig, type WeightMap } from './net.js';
import type { FunctionalModel } from './functional-model.js';
import { COMBINE_PROB_FLOOR } from './combine.js';

export const FEATURE_INPUT = 'features';
export const FUNCTIONALS_INPUT = 'functionals';
export const LOGITS_OUTPUT = 'logits';

/** The functionals model and its combination weight, for a two-input graph. */
export interface FunctionalsExport {
  members: FunctionalModel[];
  weightCnn: number;
}

/**
 * Exports the CNN ensemble combined with the functionals model as ONE graph: inputs `features` [batch, frames, mel]
 * and `functionals` [batch, dims]; output `logits` = w log p_cnn + (1 - w) log p_functionals (each a mean posterior of
 * its seed ensemble, floored at COMBINE_PROB_FLOOR), so the server's softmax gives the combination's posterior.
 */
export function exportSpeechCombinedOnnx(cfg: SpeechNetConfig, members: WeightMap[], f: FunctionalsExport, docString = ''): Uint8Array {
  if (members.length === 0) throw new Error('ONNX export: no CNN ensemble members');
  if (f.members.length === 0) throw new Error('ONNX export: no functionals-model members');
  if (!(f.weightCnn >= 0 && f.weightCnn <= 1)) throw new Error(`ONNX export: CNN weight ${f.weightCnn} outside [0, 1]`);
  const dims = f.members[0].dims;
  const g = new OnnxGraphBuilder('emostream_speech_tcn_functionals');
  const x = g.input(FEATURE_INPUT, ['batch', cfg.frames, cfg.melBands]);
  const z = g.input(FUNCTIONALS_INPUT, ['batch', dims]);
  const floor = g.constFloat('prob_floor', [COMBINE_PROB_FLOOR], []);
  const meanOf = (probs: string[], name: string) => probs.length === 1 ? probs[0] : g.op('Mul', [g.op('Sum', probs), g.constFloat(name, [1 / probs.length], [])]);
  const cnn = meanOf(members.map((w, m) => g.op('Softmax', [addSpeechNet(g, cfg, w, x, `m${m}_`)], { axis: 1 })), 'inv_members');
  const fun = meanOf(f.members.map((fm, m) => {
    if (fm.dims !== dims) throw new Error('ONNX export: functionals members differ in input size');
    return g.op('Softmax', [addFunctionalNet(g, fm, z, `f${m}_`)], { axis: 1 });
  }), 'inv_functional_members');
  const logOf = (p: string) => g.op('Log', [g.op('Max', [p, floor])]);
  g.op('Add', [
    g.op('Mul', [logOf(cnn), g.constFloat('weight_cnn', [f.weightCnn], [])]),
    g.op('Mul', [logOf(fun), g.constFloat('weight_functionals', [1 - f.weightCnn], [])]),
  ], {}, LOGITS_OUTPUT);
  g.output(LOGITS_OUTPUT, ['batch', cfg.numClasses]);
  return g.toBytes(docString);
}

/** (z - mean) / std -> dense (+ ReLU -> dense) logits, as predictFunctionalModel computes. */
function addFunctionalNet(g: OnnxGraphBuilder, m: FunctionalModel, z: string, prefix: string): string {
  const width = m.hidden > 0 ? m.hidden : m.b1.length;
  const zn = g.op('Div', [g.op('Sub', [z, g.constFloat(`${prefix}mean`, m.mean, [m.dims])]), g.constFloat(`${prefix}std`, m.std, [m.dims])]);
  const a = g.op('Gemm', [zn, g.constFloat(`${prefix}w1`, m.w1, [m.dims, width]), g.constFloat(`${prefix}b1`, m.b1, [width])]);
  if (m.hidden === 0) return a;
  return g.op('Gemm', [g.op('Relu', [a]), g.constFloat(`${prefix}w2`, m.w2, [m.hidden, m.b2.length]), g.constFloat(`${prefix}b2`, m.b2, [m.b2.length])]);
}

/**
 * Exports the temporal CNN as ONNX: features [batch, frames, melBands] -> logits [batch, numClasses].
 * Each shifted-slice convolution of the TF.js model becomes a 1-D Conv with weight[o][c][j] = W[j * Cin + c][o].
 */
export function exportSpeechNetOnnx(cfg: SpeechNetConfig, weights: WeightMap, docString = ''): Uint8Array {
  return exportSpeechEnsembleOnnx(cfg, [weights], docString);
}

/**
 * Exports a seed ensemble as ONE graph with the single-model contract: features [batch, frames, melBands] ->
 * `logits` [batch, numClasses]. With several members the output is log(mean of the members' softmax posteriors), so
 * the server's softmax of it gives exactly the ensemble's mean posterior (the posteriors sum to 1). One member
 * exports the plain network, logits unchanged.
 */
export function exportSpeechEnsembleOnnx(cfg: SpeechNetConfig, members: WeightMap[], docString = ''): Uint8Array {
  if (members.length === 0) throw new Error('ONNX export: no ensemble members');
  const g = new OnnxGraphBuilder(members.length === 1 ? 'emostream_speech_tcn' : 'emostream_speech_tcn_ensemble');
  const x = g.input(FEATURE_INPUT, ['batch', cfg.frames, cfg.melBands]);
  if (members.length === 1) {
    addSpeechNet(g, cfg, members[0], x, '', LOGITS_OUTPUT);
  } else {
    const probs = members.map((w, m) => g.op('Softmax', [addSpeechNet(g, cfg, w, x, `m${m}_`)], { axis: 1 }));
    const mean = g.op('Mul', [g.op('Sum', probs), g.constFloat('inv_members', [1 / members.length], [])]);
    // Floor before the log: a posterior that underflows to 0 must not turn into -inf.
    g.op('Log', [g.op('Max', [mean, g.constFloat('prob_floor', [1e-30], [])])], {}, LOGITS_OUTPUT);
  }
  g.output(LOGITS_OUTPUT, ['batch', cfg.numClasses]);
  return g.toBytes(docString);
}

/** Adds one network reading `x`; its initializers are prefixed with `prefix`. Returns the logits tensor name. */
function addSpeechNet(g: OnnxGraphBuilder, cfg: SpeechNetConfig, weights: WeightMap, x: string, prefix: string, outName?: string): string {
  const get = (name: string) => {
    const w = weights[name];
    if (!w) throw new Error(`ONNX export: weight '${name}' missing`);
    return w;
  };
  const p = (name: string) => `${prefix}${name}`;
  const steps = Math.floor(cfg.frames / cfg.stack);
  let h = x;
  if (steps * cfg.stack !== cfg.frames) {
    h = g.op('Slice', [h, g.constInt64(p('crop_start'), [0]), g.constInt64(p('crop_end'), [steps * cfg.stack]), g.constInt64(p('crop_axis'), [1])]);
  }
  h = g.op('Reshape', [h, g.constInt64(p('stack_shape'), [0, steps, cfg.stack * cfg.melBands])]);
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
    h = g.op('Conv', [h, g.constFloat(p(`conv${i}_w`), onnxW, [cout, cin, k]), g.constFloat(p(`conv${i}_b`), get(`conv${i}.b`).data, [cout])],
      { kernel_shape: [k], pads: [half, k - 1 - half] });
    if (cfg.norm === 'layer') {
      // Per-frame normalisation over channels (axis 1 of [B, C, T]), as net.ts does over the last axis of [B, T, C].
      const axes = { axes: [1], keepdims: 1 };
      const centred = g.op('Sub', [h, g.op('ReduceMean', [h], axes)]);
      const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], axes);
      const std = g.op('Sqrt', [g.op('Add', [variance, g.constFloat(p(`conv${i}_eps`), [LAYER_NORM_EPS], [])])]);
      h = g.op('Add', [g.op('Mul', [g.op('Div', [centred, std]), g.constFloat(p(`conv${i}_gamma`), get(`conv${i}.gamma`).data, [cout, 1])]),
        g.constFloat(p(`conv${i}_beta`), get(`conv${i}.beta`).data, [cout, 1])]);
    }
    h = g.op('Relu', [h]);
    if (c.pool > 1) h = g.op('AveragePool', [h], { kernel_shape: [c.pool], strides: [c.pool] });
    cin = cout;
  });
  let pooled: string;
  if (cfg.pooling === 'attention') {
    const ht = g.op('Transpose', [h], { perm: [0, 2, 1] }); // [B, T, C]
    const a = g.op('Tanh', [g.op('Add', [g.op('MatMul', [ht, g.constFloat(p('att_w'), get('att.w').data, get('att.w').shape)]), g.constFloat(p('att_b'), get('att.b').data, [cfg.attentionDim])])]);
    const scores = g.op('MatMul', [a, g.constFloat(p('att_v'), get('att.v').data, get('att.v').shape)]); // [B, T, 1]
    const weightsOverTime = g.op('Softmax', [scores], { axis: 1 });
    pooled = g.op('ReduceSum', [g.op('Mul', [ht, weightsOverTime]), g.constInt64(p('time_axis'), [1])], { keepdims: 0 });
  } else {
    const mean = g.op('ReduceMean', [h], { axes: [2], keepdims: 0 });
    const max = g.op('ReduceMax', [h], { axes: [2], keepdims: 0 });
    pooled = g.op('Concat', [mean, max], { axis: 1 });
  }
  const outW = get('out.w');
  return g.op('Gemm', [pooled, g.constFloat(p('out_w'), outW.data, outW.shape), g.constFloat(p('out_b'), get('out.b').data, [cfg.numClasses])], {}, outName);
}
