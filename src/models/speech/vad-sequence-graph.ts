import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/**
 * Silero VAD v4 rewritten to take N consecutive chunks of ONE stream in one call (the same weights and the same
 * operations, so the same numbers up to float rounding; tests/unit/models/vad-sequence.test.ts).
 *
 * Why: a v4 call costs ~0.24 ms of CPU at batch 1 and a 0.5 s hop needs 5.2 calls of 1,536 samples, but chunks of one
 * stream could not be batched because the LSTM state of chunk k feeds chunk k + 1. Only the LSTM carries state: the
 * STFT, the adaptive normalisation and the convolutional encoder see one chunk each (each chunk is padded and
 * normalised on its own), and the decoder is a 1x1 convolution per encoder frame followed by a mean over the chunk's
 * 3 frames. So: the encoder runs over the N chunks as one batch, their 3 N frames are laid end to end into one
 * sequence for the two LSTM layers (which then step through them in order from the given state, exactly as N
 * calls would), and each chunk's probability is the mean of its 3 decoder outputs.
 *
 * Several streams can still share a call (as the one-chunk graph allowed): B streams of N chunks each.
 *
 * Inputs: `chunks` [B, N, chunkSamples] float32, `h` and `c` [2, B, 64]. Outputs: `output` [B, N] (P(speech) per
 * chunk), `hn`, `cn` [2, B, 64] (each stream's state after its last chunk). The sample rate is fixed to 16 kHz (the
 * graph's 16 kHz branch; the server resamples everything to 16 kHz).
 */
export function sileroSequenceGraph(original: Uint8Array, chunkSamples: number): Uint8Array {
  const fail = (why: string): never => {
    throw new Error(`voice activity: not the Silero VAD v4 graph this rewrite knows (${why})`);
  };
  const model = onnx.ModelProto.decode(original);
  const g = model.graph ?? fail('no graph');
  const inputNames = (g.input ?? []).map((i) => i.name);
  for (const name of ['input', 'sr', 'h', 'c']) if (!inputNames.includes(name)) fail(`no input '${name}'`);
  // Top level: Equal(sr, 16000) -> If(16 kHz branch, 8 kHz branch).
  const top = g.node ?? [];
  const srIf = top.find((n) => n.opType === 'If') ?? fail('no sample-rate If');
  const srEqual = top.find((n) => n.opType === 'Equal' && n.input?.includes('sr') && n.output?.[0] === srIf.input?.[0]) ?? fail('no sr == const');
  const srConst = srEqual.input?.find((x) => x !== 'sr');
  const srTensor = (g.initializer ?? []).find((t) => t.name === srConst) ?? fail('sr constant not an initializer');
  if (int64Scalar(srTensor) !== 16000n) fail('the If does not test sr == 16000');
  const branch = attrGraph(srIf, 'then_branch') ?? fail('no 16 kHz branch');
  const nodes = branch.node ?? [];
  // The state If: its then-branch holds the two LSTM layers fed the given h and c.
  const stateIfAt = nodes.findIndex((n) => n.opType === 'If' && (attrGraph(n, 'then_branch')?.node ?? []).some((m) => m.opType === 'LSTM'));
  if (stateIfAt < 0) fail('no LSTM branch');
  const stateIf = nodes[stateIfAt];
  const lstmGraph = attrGraph(stateIf, 'then_branch')!;
  const lstmNodes = lstmGraph.node ?? [];
  const lstms = lstmNodes.filter((n) => n.opType === 'LSTM');
  if (lstms.length !== 2) fail(`expected 2 LSTM layers, found ${lstms.length}`);
  const lstmInput = lstms[0].input![0];
  const producer = nodes.find((n) => n.output?.includes(lstmInput)) ?? fail('no LSTM input producer');
  if (producer.opType !== 'Transpose' || !sameInts(attrInts(producer, 'perm'), [2, 0, 1])) fail('LSTM input is not Transpose(perm 2,0,1)');
  const encoderOut = producer.input![0]; // [N, 64, frames]
  const encoderOutAt = nodes.findIndex((n) => n.output?.includes(encoderOut));
  if (encoderOutAt < 0 || encoderOutAt > stateIfAt) fail('encoder output not before the state If');
  const [lstmOut, hOut, cOut] = lstmGraph.output!.map((o) => o.name!); // [batch, frames, 64], [2, batch, 64] x 2
  const stateOut = stateIf.output![0];
  // Decoder: Transpose(perm 0,2,1) -> Relu -> Conv(1x1) -> Sigmoid on the state If's first output.
  const decoder: NodeProto[] = [];
  let cursor = stateOut;
  for (const op of ['Transpose', 'Relu', 'Conv', 'Sigmoid']) {
    const n = nodes.find((m) => m.opType === op && m.input?.[0] === cursor) ?? fail(`decoder has no ${op} after ${cursor}`);
    decoder.push(n);
    cursor = n.output![0];
  }

  const out: NodeProto[] = [];
  // 1. Encoder over all B x N chunks as one batch: every node of the 16 kHz branch up to the encoder's output.
  const consts: TensorProto[] = [
    int64Tensor('vadseq_flat_shape', [-1, chunkSamples]),
    int64Tensor('vadseq_rest_shape', [-1, 64]),
    int64Tensor('vadseq_frames_per_chunk', [-1]),
    int64Tensor('vadseq_zero', [0]),
    int64Tensor('vadseq_one', [1]),
    int64Tensor('vadseq_two', [2]),
  ];
  out.push(node('Reshape', ['chunks', 'vadseq_flat_shape'], ['input']));
  out.push(...nodes.slice(0, encoderOutAt + 1));
  // 2. [B N, 64, 3] -> [B N, 3, 64] -> [B, 3 N, 64] -> [3 N, B, 64]: each stream's chunks' frames end to end, one
  // sequence per stream, streams as the LSTM's batch.
  out.push(node('Shape', ['chunks'], ['vadseq_chunks_shape']));
  out.push(node('Slice', ['vadseq_chunks_shape', 'vadseq_zero', 'vadseq_one'], ['vadseq_b']));
  out.push(node('Slice', ['vadseq_chunks_shape', 'vadseq_zero', 'vadseq_two'], ['vadseq_bn']));
  out.push(node('Concat', ['vadseq_b', 'vadseq_rest_shape'], ['vadseq_seq_shape'], { axis: 0 }));
  out.push(node('Concat', ['vadseq_bn', 'vadseq_frames_per_chunk'], ['vadseq_prob_shape'], { axis: 0 }));
  out.push(node('Transpose', [encoderOut], ['vadseq_frames'], { perm: [0, 2, 1] }));
  out.push(node('Reshape', ['vadseq_frames', 'vadseq_seq_shape'], ['vadseq_streams']));
  out.push(node('Transpose', ['vadseq_streams'], [lstmInput], { perm: [1, 0, 2] }));
  // 3. The two LSTM layers as they are (they read h and c, and the sequence just built).
  out.push(...lstmNodes);
  // 4. Decoder per frame on [B, 64, 3 N], then each chunk's mean over its 3 frames: [B, N].
  out.push(node('Identity', [lstmOut], [stateOut]));
  out.push(...decoder);
  out.push(node('Reshape', [cursor, 'vadseq_prob_shape'], ['vadseq_per_frame']));
  out.push(node('ReduceMean', ['vadseq_per_frame'], ['output'], { axes: [2], keepdims: 0 }));
  out.push(node('Identity', [hOut], ['hn']));
  out.push(node('Identity', [cOut], ['cn']));

  const all = [...(g.initializer ?? []), ...(branch.initializer ?? []), ...(lstmGraph.initializer ?? []), ...consts];
  const nodesOut = convolutionsAs2d(out, all);
  const used = referencedNames(nodesOut);
  const initializer = all.filter((t) => used.has(t.name!));
  const graph = onnx.GraphProto.create({
    name: 'silero_vad_v4_sequence',
    node: nodesOut,
    initializer,
    input: [
      valueInfo('chunks', ['streams', 'chunks', chunkSamples]),
      valueInfo('h', [2, 'streams', 64]),
      valueInfo('c', [2, 'streams', 64]),
    ],
    output: [valueInfo('output', ['streams', 'chunks']), valueInfo('hn', [2, 'streams', 64]), valueInfo('cn', [2, 'streams', 64])],
  });
  model.graph = graph;
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Every 1-D convolution (STFT basis, encoder, decoder) as the same convolution in 2-D over a 1 x T image: [B, C, T]
 * -> Unsqueeze -> Conv(kernel 1 x k, the weight [O, I, k] viewed as [O, I, 1, k]) -> Squeeze. onnxruntime's CPU
 * provider runs 2-D convolutions in its blocked NCHWc layout with dedicated depthwise kernels, which it does not do for
 * 1-D ones: ~18 % less time per call here, the same products summed (P(speech) equal within 1e-6).
 */
function convolutionsAs2d(nodes: readonly NodeProto[], initializers: TensorProto[]): NodeProto[] {
  const weights = new Map(initializers.map((t) => [t.name!, t]));
  const axis = int64Tensor('vadseq_conv_axis', [2]);
  initializers.push(axis);
  const out: NodeProto[] = [];
  for (const n of nodes) {
    const w = n.opType === 'Conv' ? weights.get(n.input?.[1] ?? '') : undefined;
    if (!w || w.dims?.length !== 3) {
      out.push(n);
      continue;
    }
    const w2d = onnx.TensorProto.create({ ...w, name: `${w.name}_1xk`, dims: [w.dims[0], w.dims[1], 1, w.dims[2]] });
    initializers.push(w2d);
    const attribute = (n.attribute ?? []).map((a) => {
      const ints = (a.ints ?? []).map(Number);
      if (a.name === 'kernel_shape' || a.name === 'strides' || a.name === 'dilations') return ints1(a.name, [1, ints[0]]);
      if (a.name === 'pads') return ints1(a.name, [0, ints[0], 0, ints[1]]);
      return a;
    });
    const y = n.output![0];
    out.push(node('Unsqueeze', [n.input![0], axis.name!], [`${y}_1xT`]));
    out.push(onnx.NodeProto.create({ opType: 'Conv', input: [`${y}_1xT`, w2d.name!, ...(n.input ?? []).slice(2)], output: [`${y}_2d`], name: `${n.name}_2d`, attribute }));
    out.push(node('Squeeze', [`${y}_2d`, axis.name!], [y]));
  }
  return out;
}

function ints1(name: string, ints: number[]) {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
}

/** Every tensor name the nodes read, subgraphs (which may read the outer scope) included. */
function referencedNames(nodes: readonly NodeProto[], into = new Set<string>()): Set<string> {
  for (const n of nodes) {
    for (const x of n.input ?? []) into.add(x);
    for (const a of n.attribute ?? []) if (a.g) referencedNames(a.g.node ?? [], into);
  }
  return into;
}

function attrGraph(n: NodeProto, name: string): GraphProto | undefined {
  return n.attribute?.find((a) => a.name === name)?.g ?? undefined;
}

function attrInts(n: NodeProto, name: string): number[] {
  return (n.attribute?.find((a) => a.name === name)?.ints ?? []).map(Number);
}

function sameInts(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function int64Scalar(t: TensorProto): bigint | undefined {
  if (t.rawData && t.rawData.length >= 8) return Buffer.from(t.rawData).readBigInt64LE(0);
  const v = t.int64Data?.[0];
  return v === undefined ? undefined : BigInt(v.toString());
}

function int64Tensor(name: string, values: number[]): TensorProto {
  const raw = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), 8 * i));
  return onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: raw });
}

function node(opType: string, inputs: string[], outputs: string[], ints: Record<string, number[] | number> = {}): NodeProto {
  const attribute = Object.entries(ints).map(([name, v]) => Array.isArray(v)
    ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
    : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v }));
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: `vadseq_${opType}_${outputs[0]}`, attribute });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }),
      }),
    }),
  });
}
