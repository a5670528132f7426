import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface OnnxIo {
  name: string;
  /** A number for a fixed dimension, a string for a symbolic one, null when unknown. */
  dims: (number | string | null)[];
  elemType: number;
}

export interface OnnxSignature {
  inputs: OnnxIo[];
  outputs: OnnxIo[];
}

export const ONNX_FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Graph inputs (initializers excluded) and outputs of an ONNX file; throws a specific error for a corrupt file. */
export function readOnnxSignature(bytes: Uint8Array, where: string): OnnxSignature {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${where}: not a valid ONNX model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const graph = model.graph;
  if (!graph || !graph.output || graph.output.length === 0) throw new Error(`${where}: not a valid ONNX model (no graph or no outputs)`);
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const io = (v: onnxProto.onnx.IValueInfoProto): OnnxIo => {
    const tt = v.type?.tensorType;
    return {
      name: v.name ?? '',
      elemType: tt?.elemType ?? 0,
      dims: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : null)),
    };
  };
  return {
    inputs: (graph.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(io),
    outputs: graph.output.map(io),
  };
}

/** Checks one declared tensor against an expected shape (numbers fixed, null = any); returns a problem or null. */
export function shapeProblem(io: OnnxIo, expected: (number | null)[], role: string): string | null {
  if (io.elemType !== ONNX_FLOAT) return `${role} '${io.name}' has element type ${io.elemType}, expected float32`;
  if (io.dims.length !== expected.length) {
    return `${role} '${io.name}' has shape [${io.dims.map((d) => d ?? '?').join(', ')}], expected rank ${expected.length} [${expected.map((d) => d ?? 'batch').join(', ')}]`;
  }
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i], got = io.dims[i];
    if (want !== null && typeof got === 'number' && got !== want) {
      return `${role} '${io.name}' has shape [${io.dims.map((d) => d ?? '?').join(', ')}], expected [${expected.map((d) => d ?? 'batch').join(', ')}]`;
    }
  }
  return null;
}
