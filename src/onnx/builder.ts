import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset the builder targets; onnxruntime-node 1.30 supports it fully. */
export const OPSET = 17;

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: Float32Array; dims: number[] };

/**
 * A small ONNX graph builder: enough to export the project's own trained networks (MLPs, temporal convolutions,
 * LSTMs, fusion heads) without a Python toolchain. Dimensions given as strings are symbolic (e.g. 'batch').
 */
export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A fresh, unique tensor name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: (number | string)[], elemType: 'float' | 'int64' = 'float'): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(name: string, dims: (number | string)[], elemType: 'float' | 'int64' = 'float'): string {
    this.outputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  /** A float32 constant stored as an initializer. */
  constFloat(name: string, data: ArrayLike<number>, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.initializers.push(onnx.TensorProto.create({
      name, dims, dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(Float32Array.from(data).buffer),
    }));
    return name;
  }

  constInt64(name: string, data: number[], dims: number[] = [data.length]): string {
    const buf = new BigInt64Array(data.map((x) => BigInt(x)));
    this.initializers.push(onnx.TensorProto.create({
      name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer),
    }));
    return name;
  }

  /** Adds a node; returns its first output name (one is generated when `outputs` is a number). */
  node(opType: string, inputs: string[], outputs: string[] | number = 1, attrs: Record<string, AttrValue> = {}): string[] {
    const outNames = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs;
    this.nodes.push(onnx.NodeProto.create({
      opType, input: inputs, output: outNames, name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    }));
    return outNames;
  }

  /** One-output convenience over `node`. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.node(opType, inputs, outName ? [outName] : 1, attrs)[0];
  }

  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'emostream',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      graph: onnx.GraphProto.create({
        name: this.graphName, node: this.nodes, initializer: this.initializers,
        input: this.inputs, output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: (number | string)[], elemType: 'float' | 'int64') {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: elemType === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => typeof d === 'number'
            ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
            : onnx.TensorShapeProto.Dimension.create({ dimParam: d })),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: AttrValue) {
  const A = onnx.AttributeProto;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use {float: x} for floats`);
    return A.create({ name, type: A.AttributeType.INT, i: v });
  }
  if (typeof v === 'string') return A.create({ name, type: A.AttributeType.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return A.create({ name, type: A.AttributeType.INTS, ints: v });
  if ('float' in v) return A.create({ name, type: A.AttributeType.FLOAT, f: v.float });
  if ('floats' in v) return A.create({ name, type: A.AttributeType.FLOATS, floats: v.floats });
  return A.create({
    name, type: A.AttributeType.TENSOR,
    t: onnx.TensorProto.create({ dims: v.dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(v.tensor).buffer) }),
  });
}
