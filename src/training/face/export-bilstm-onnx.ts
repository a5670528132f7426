import { OnnxGraphBuilder } from '../../onnx/builder.js';
import { AU_VECTOR_LENGTH, NUM_EMOTIONS } from '../../protocol/labels.js';

export const SEQ_INPUT = 'aus_norm';
export const SEQ_MASK = 'mask';
export const SEQ_OUTPUT = 'probs';

type Weights = Record<string, { data: Float32Array; shape: number[] }>;

/** [rows, cols] row-major -> its transpose. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * The bi-LSTM + attention as ONNX: inputs `aus_norm` [batch, frames, 35] (post-padded) and `mask` [batch, frames]
 * (1 = frame, 0 = padding; floats because the server's runner feeds float32). sequence_lens = Σ mask, cast to int32,
 * drives the ONNX LSTM operator (direction 'bidirectional'); attention scores of padded steps get -1e9.
 */
export function exportBiLstmOnnx(w: Weights, layers: number, units: number, docString = ''): Uint8Array {
  const g = new OnnxGraphBuilder('emostream_face_bilstm_attention');
  const x = g.input(SEQ_INPUT, ['batch', 'frames', AU_VECTOR_LENGTH]);
  const mask = g.input(SEQ_MASK, ['batch', 'frames']);
  const lens = g.op('Cast', [g.op('ReduceSum', [mask, g.constInt64('axis1', [1])], { keepdims: 0 })], { to: 6 /* INT32 */ });
  let seq = g.op('Transpose', [x], { perm: [1, 0, 2] }); // [T, B, D]
  const shapeTB = g.constInt64('shape_t_b_flat', [0, 0, -1]);
  for (let l = 0; l < layers; l++) {
    const inDim = l === 0 ? AU_VECTOR_LENGTH : 2 * units;
    const dirs = (['fw', 'bw'] as const).map((d) => ({
      W: transpose(w[`l${l}_${d}_wx`].data, inDim, 4 * units),
      R: transpose(w[`l${l}_${d}_wh`].data, units, 4 * units),
      B: concat(w[`l${l}_${d}_b`].data, new Float32Array(4 * units)),
    }));
    const W = g.constFloat(`lstm${l}_W`, concat(dirs[0].W, dirs[1].W), [2, 4 * units, inDim]);
    const R = g.constFloat(`lstm${l}_R`, concat(dirs[0].R, dirs[1].R), [2, 4 * units, units]);
    const B = g.constFloat(`lstm${l}_B`, concat(dirs[0].B, dirs[1].B), [2, 8 * units]);
    const [y] = g.node('LSTM', [seq, W, R, B, lens], [g.fresh(`lstm${l}_y`)], { direction: 'bidirectional', hidden_size: units });
    // Y [T, 2, B, H] -> [T, B, 2, H] -> [T, B, 2H] (forward then backward, as in training).
    seq = g.op('Reshape', [g.op('Transpose', [y], { perm: [0, 2, 1, 3] }), shapeTB]);
  }
  const hs = g.op('Transpose', [seq], { perm: [1, 0, 2] }); // [B, T, 2H]
  const att = g.op('Tanh', [g.op('Add', [g.op('MatMul', [hs, g.constFloat('att_w', w.att_w.data, w.att_w.shape)]), g.constFloat('att_b', w.att_b.data, w.att_b.shape)])]);
  const scores = g.op('Squeeze', [g.op('MatMul', [att, g.constFloat('att_v', w.att_v.data, w.att_v.shape)]), g.constInt64('axis2', [2])]);
  const penalty = g.op('Mul', [g.op('Sub', [mask, g.constFloat('one', [1], [])]), g.constFloat('big', [1e9], [])]);
  const alpha = g.op('Softmax', [g.op('Add', [scores, penalty])], { axis: 1 });
  const weighted = g.op('Mul', [g.op('Unsqueeze', [alpha, g.constInt64('axis2u', [2])]), hs]);
  const context = g.op('ReduceSum', [weighted, g.constInt64('axis1b', [1])], { keepdims: 0 });
  const logits = g.op('Gemm', [context, g.constFloat('out_w', w.out_w.data, w.out_w.shape), g.constFloat('out_b', w.out_b.data, w.out_b.shape)]);
  g.op('Softmax', [logits], { axis: -1 }, SEQ_OUTPUT);
  g.output(SEQ_OUTPUT, ['batch', NUM_EMOTIONS]);
  return g.toBytes(docString);
}
