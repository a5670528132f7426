import type * as tfTypes from '@tensorflow/tfjs';
import { initTf } from '../tf.js';
import { AU_VECTOR_LENGTH, NUM_EMOTIONS } from '../../protocol/labels.js';

/**
 * The paper's sequential face model: 2 bidirectional LSTM layers (50 units per direction) -> attention (tanh MLP
 * scoring each step, softmax over the valid steps, weighted sum of the hidden states) -> dense softmax over 8 classes.
 *
 * Written with TensorFlow.js ops rather than tf.layers so that (a) masking of variable-length, post-padded windows has
 * exactly the ONNX LSTM `sequence_lens` semantics (padded steps leave the state unchanged and output zeros; the
 * backward direction starts at each sequence's last valid step), and (b) the weights are kept in the layout the ONNX
 * export needs. Gate order is ONNX's: input, output, forget, cell.
 */
export const BILSTM_UNITS = 50;
export const BILSTM_LAYERS = 2;
export const ATTENTION_UNITS = 100;

export interface LstmDirection {
  /** [in, 4H], columns in gate order i, o, f, c. */
  wx: tfTypes.Variable;
  /** [H, 4H]. */
  wh: tfTypes.Variable;
  /** [4H]. */
  b: tfTypes.Variable;
}

export interface BiLstmParams {
  layers: { fw: LstmDirection; bw: LstmDirection }[];
  /** Attention: score_t = tanh(h_t · attW + attB) · attV. */
  attW: tfTypes.Variable;
  attB: tfTypes.Variable;
  attV: tfTypes.Variable;
  outW: tfTypes.Variable;
  outB: tfTypes.Variable;
}

/** Random initialisation (Glorot-uniform inputs, orthogonal-free uniform recurrent, forget-gate bias 1 as in Keras). */
export async function initBiLstm(seed = 0, inputDim = AU_VECTOR_LENGTH, units = BILSTM_UNITS): Promise<BiLstmParams> {
  const tf = await initTf();
  let s = seed * 7919 + 1;
  const glorot = (shape: [number, number]) => tf.variable(tf.randomUniform(shape, -Math.sqrt(6 / (shape[0] + shape[1])), Math.sqrt(6 / (shape[0] + shape[1])), 'float32', s++));
  const dir = (inDim: number): LstmDirection => {
    const bias = new Float32Array(4 * units);
    bias.fill(1, 2 * units, 3 * units); // forget gate
    return { wx: glorot([inDim, 4 * units]), wh: glorot([units, 4 * units]), b: tf.variable(tf.tensor1d(bias)) };
  };
  const layers = Array.from({ length: BILSTM_LAYERS }, (_, l) => {
    const inDim = l === 0 ? inputDim : 2 * units;
    return { fw: dir(inDim), bw: dir(inDim) };
  });
  return {
    layers,
    attW: glorot([2 * units, ATTENTION_UNITS]), attB: tf.variable(tf.zeros([ATTENTION_UNITS])), attV: glorot([ATTENTION_UNITS, 1]),
    outW: glorot([2 * units, NUM_EMOTIONS]), outB: tf.variable(tf.zeros([NUM_EMOTIONS])),
  };
}

export function biLstmVariables(p: BiLstmParams): tfTypes.Variable[] {
  return [...p.layers.flatMap((l) => [l.fw.wx, l.fw.wh, l.fw.b, l.bw.wx, l.bw.wh, l.bw.b]), p.attW, p.attB, p.attV, p.outW, p.outB];
}

/** One direction over [B, T, D] with mask [B, T]; returns outputs [B, T, H] (zeros at padded steps). */
function runDirection(tf: typeof tfTypes, x: tfTypes.Tensor3D, mask: tfTypes.Tensor2D, w: LstmDirection, reverse: boolean): tfTypes.Tensor3D {
  const [batch, steps] = x.shape;
  const units = w.wh.shape[0];
  let h: tfTypes.Tensor2D = tf.zeros([batch, units]);
  let c: tfTypes.Tensor2D = tf.zeros([batch, units]);
  const outs: tfTypes.Tensor2D[] = new Array(steps);
  // Input projections for all steps at once: [B*T, D] x [D, 4H].
  const xw = tf.reshape(tf.matMul(tf.reshape(x, [batch * steps, x.shape[2]]), w.wx), [batch, steps, 4 * units]);
  for (let i = 0; i < steps; i++) {
    const t = reverse ? steps - 1 - i : i;
    const g = tf.add(tf.add(tf.reshape(tf.slice(xw, [0, t, 0], [batch, 1, 4 * units]), [batch, 4 * units]), tf.matMul(h, w.wh)), w.b);
    const [gi, go, gf, gc] = tf.split(g, 4, 1) as tfTypes.Tensor2D[];
    const cNew = tf.add(tf.mul(tf.sigmoid(gf), c), tf.mul(tf.sigmoid(gi), tf.tanh(gc)));
    const hNew = tf.mul(tf.sigmoid(go), tf.tanh(cNew));
    const m = tf.slice(mask, [0, t], [batch, 1]);
    const keep = tf.sub(1, m);
    c = tf.add(tf.mul(m, cNew), tf.mul(keep, c));
    h = tf.add(tf.mul(m, hNew), tf.mul(keep, h));
    outs[t] = tf.mul(m, hNew);
  }
  return tf.stack(outs, 1) as tfTypes.Tensor3D;
}

/** Forward pass: aus [B, T, 35] (normalised), mask [B, T] (1 = frame, 0 = padding) -> logits [B, 8]. */
export function biLstmLogits(tf: typeof tfTypes, p: BiLstmParams, aus: tfTypes.Tensor3D, mask: tfTypes.Tensor2D): tfTypes.Tensor2D {
  let h: tfTypes.Tensor3D = aus;
  for (const layer of p.layers) {
    h = tf.concat([runDirection(tf, h, mask, layer.fw, false), runDirection(tf, h, mask, layer.bw, true)], 2);
  }
  const [batch, steps, width] = h.shape;
  const flat = tf.reshape(h, [batch * steps, width]);
  const scores = tf.reshape(tf.matMul(tf.tanh(tf.add(tf.matMul(flat, p.attW), p.attB)), p.attV), [batch, steps]);
  // Padded steps get -1e9 so the softmax gives them zero weight.
  const masked = tf.add(scores, tf.mul(tf.sub(mask, 1), 1e9));
  const alpha = tf.softmax(masked, 1);
  const context = tf.sum(tf.mul(tf.expandDims(alpha, 2), h), 1) as tfTypes.Tensor2D;
  return tf.add(tf.matMul(context, p.outW), p.outB);
}

export async function biLstmPredict(p: BiLstmParams, aus: Float32Array, mask: Float32Array, batch: number, steps: number): Promise<Float32Array> {
  const tf = await initTf();
  const probs = tf.tidy(() => tf.softmax(biLstmLogits(tf, p, tf.tensor3d(aus, [batch, steps, AU_VECTOR_LENGTH]), tf.tensor2d(mask, [batch, steps]))));
  const out = (await probs.data()) as Float32Array;
  probs.dispose();
  return out;
}

/** Plain arrays of the weights, for export and for the JSON/ONNX files. */
export async function biLstmWeights(p: BiLstmParams): Promise<Record<string, { data: Float32Array; shape: number[] }>> {
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  const put = async (name: string, v: tfTypes.Variable) => { out[name] = { data: (await v.data()) as Float32Array, shape: v.shape }; };
  for (let l = 0; l < p.layers.length; l++) {
    for (const d of ['fw', 'bw'] as const) {
      await put(`l${l}_${d}_wx`, p.layers[l][d].wx);
      await put(`l${l}_${d}_wh`, p.layers[l][d].wh);
      await put(`l${l}_${d}_b`, p.layers[l][d].b);
    }
  }
  await put('att_w', p.attW);
  await put('att_b', p.attB);
  await put('att_v', p.attV);
  await put('out_w', p.outW);
  await put('out_b', p.outB);
  return out;
}

export function disposeBiLstm(p: BiLstmParams): void {
  for (const v of biLstmVariables(p)) v.dispose();
}
