import type * as tfTypes from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Box, boxHeight, boxOfPoints, boxWidth, nonMaxSuppression, squareAround } from './box.js';
import { cropResize, resizeFrame } from './crop.js';
import type { RgbImage } from './decode.js';

type Tf = typeof tfTypes;

/** Landmarks FaceMesh returns (without the 10 iris points of the attention/iris variants). */
export const MESH_POINTS = 468;
const MESH_INPUT_PX = 192;
const DETECTOR_INPUT_PX = 256;
const EXPRESSION_INPUT_PX = 64;
/** The expression net's crop: the square around the landmarks' extent times this (chosen leave-one-subject-out). */
export const EXPRESSION_CROP_SCALE = 1.0;
/** BlazeFace's box covers brows-to-mouth; FaceMesh wants that box enlarged 1.4x and squared (as Human does). */
export const DETECTOR_BOX_ENLARGE = 1.4;
/** byte -> byte / 255 and byte / 127.5 - 1 as float32, the networks' input scalings, looked up instead of divided. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, b) => b / 255);
const BYTE_TO_SIGNED = Float32Array.from({ length: 256 }, (_, b) => b / 127.5 - 1);
/** ITU-R BT.601 luma weights of the FER-2013 grayscale, float32 as tf.tensor1d held them. */
const GRAY_WEIGHTS = Float32Array.of(0.2989, 0.587, 0.114);
/** Classes of the oarriaga FER-2013 network that @vladmandic/human ships as models/emotion.json, in output order. */
export const EXPRESSION_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

/** @vladmandic/human's models folder; its package exports hide package.json, so look it up on the resolution paths. */
export function defaultModelDir(): string {
  const require = createRequire(import.meta.url);
  for (const base of require.resolve.paths('@vladmandic/human') ?? []) {
    const dir = join(base, '@vladmandic/human/models');
    if (existsSync(join(dir, 'facemesh.json'))) return dir;
  }
  throw new Error('@vladmandic/human is not installed (its models/ folder holds the face detector and landmark models)');
}

/** Loads a tfjs graph model from disk: tfjs's own loaders need fetch('file://') in Node, which Node's fetch refuses. */
async function loadGraphModelFromDisk(tf: Tf, jsonPath: string): Promise<tfTypes.GraphModel> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: object;
    userDefinedMetadata?: Record<string, unknown>;
  };
  const weightSpecs: tfTypes.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readFile(join(dirname(jsonPath), p)));
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  const handler: tfTypes.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: weightData.buffer,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
    }),
  };
  return tf.loadGraphModel(handler);
}

export interface Detection {
  /** Square crop for FaceMesh, in analysis pixels. */
  cropBox: Box;
  score: number;
}

export interface MeshResult {
  /** 468 x (x, y, z) in analysis pixels; z on the same scale as x, towards the camera negative. */
  mesh: Float32Array;
  /** FaceMesh face-flag (probability that the crop holds a face). */
  score: number;
  /** The expression classifier's 7 softmax outputs (EXPRESSION_CLASSES order), or null when disabled. */
  expression: Float32Array | null;
}

/** BlazeFace anchors for a 256 input: 16x16 grid x 2 anchors (stride 16), then 8x8 x 6 (stride 32). */
function blazeFaceAnchors(): Float32Array {
  const specs = [
    { stride: 16, perCell: 2 },
    { stride: 32, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of specs) {
    const cells = Math.ceil(DETECTOR_INPUT_PX / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < perCell; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return new Float32Array(out);
}

/**
 * The three networks @vladmandic/human ships (MediaPipe BlazeFace, MediaPipe FaceMesh, oarriaga's FER-2013 CNN),
 * run by this thread's own TensorFlow.js on inputs that libvips has already resized (see crop.ts).
 */
export class FaceModels {
  private readonly anchors = blazeFaceAnchors();
  /**
   * The FaceMesh outputs used (landmarks, face flag), by name from the model's signature: asking for them alone
   * leaves out the graph's third head (266 lip/eye contour values, unused here), whose own layers cost ~0.3 ms per
   * face; the landmarks are the same. Null for a model file without a signature: then every output is computed.
   */
  private readonly meshOutputs: [string, string] | null;

  private constructor(
    private readonly tf: Tf,
    private readonly detector: tfTypes.GraphModel,
    private readonly meshModel: tfTypes.GraphModel,
    private readonly expressionModel: tfTypes.GraphModel | null,
  ) {
    type Signature = { outputs?: Record<string, { name?: string; tensorShape?: { dim?: { size?: string }[] } }> };
    const outputs = Object.values((meshModel.modelSignature as Signature | undefined)?.outputs ?? {});
    const named = (width: number): string | undefined => outputs.find((o) => Number(o.tensorShape?.dim?.at(-1)?.size) === width)?.name;
    const mesh = named(MESH_POINTS * 3), flag = named(1);
    this.meshOutputs = mesh && flag ? [mesh, flag] : null;
  }

  static async load(tf: Tf, modelDir: string, withExpression: boolean): Promise<FaceModels> {
    const [detector, mesh, expression] = await Promise.all([
      loadGraphModelFromDisk(tf, join(modelDir, 'blazeface.json')),
      loadGraphModelFromDisk(tf, join(modelDir, 'facemesh.json')),
      withExpression ? loadGraphModelFromDisk(tf, join(modelDir, 'emotion.json')) : Promise.resolve(null),
    ]);
    return new FaceModels(tf, detector, mesh, expression);
  }

  /** BlazeFace on the whole frame (resized to 256x256 like Human does); boxes above minScore after NMS, best first. */
  async detect(img: RgbImage, minScore: number, maxFaces: number): Promise<Detection[]> {
    const tf = this.tf;
    const { width, height } = img;
    const small = await resizeFrame(img, DETECTOR_INPUT_PX);
    const input = new Float32Array(small.length);
    for (let i = 0; i < small.length; i++) input[i] = BYTE_TO_SIGNED[small[i]];
    const rows = tf.tidy(() => {
      const outs = this.detector.execute(tf.tensor4d(input, [1, DETECTOR_INPUT_PX, DETECTOR_INPUT_PX, 3])) as tfTypes.Tensor[];
      // The pinto conversion splits scores and regressors per anchor layer: sort by size to [s384, s512, r384, r512].
      const sorted = [...outs].sort((a, b) => a.size - b.size);
      const layer512 = tf.concat([sorted[1], sorted[3]], 2);
      const layer384 = tf.concat([sorted[0], sorted[2]], 2);
      return tf.concat([layer512, layer384], 1).squeeze([0]);
    });
    const data = rows.dataSync() as Float32Array;
    rows.dispose();
    const stride = 17;
    const count = data.length / stride;
    const boxes: Box[] = [];
    const scores: number[] = [];
    const sx = width / DETECTOR_INPUT_PX;
    const sy = height / DETECTOR_INPUT_PX;
    for (let i = 0; i < count; i++) {
      const score = 1 / (1 + Math.exp(-data[i * stride]));
      if (score < minScore) continue;
      const cx = data[i * stride + 1] + this.anchors[i * 2];
      const cy = data[i * stride + 2] + this.anchors[i * 2 + 1];
      const w = data[i * stride + 3];
      const h = data[i * stride + 4];
      boxes.push({ x0: (cx - w / 2) * sx, y0: (cy - h / 2) * sy, x1: (cx + w / 2) * sx, y1: (cy + h / 2) * sy });
      scores.push(score);
    }
    const kept = nonMaxSuppression(boxes, scores, 0.3, Math.max(maxFaces * 2, 4));
    return kept.map((k) => ({ cropBox: squareAround(boxes[k], DETECTOR_BOX_ENLARGE), score: scores[k] }));
  }

  /** FaceMesh (and the expression net) on square crops of one frame. */
  async landmarks(img: RgbImage, cropBoxes: Box[], withExpression = true): Promise<MeshResult[]> {
    return (await this.landmarksMany([{ img, boxes: cropBoxes, withExpression }]))[0];
  }

  /**
   * FaceMesh on the crops of several frames (of different sessions) in one batched model call, and the expression net
   * in one call on the crops of the requests that want it: on the wasm backend a batch of 4 costs about 40 % of four
   * single calls per face.
   */
  async landmarksMany(requests: { img: RgbImage; boxes: Box[]; withExpression: boolean }[]): Promise<MeshResult[][]> {
    const tf = this.tf;
    const flat = requests.flatMap((r, ri) => r.boxes.map((box, bi) => ({ ri, bi, box, img: r.img, expr: r.withExpression })));
    const crops = await Promise.all(flat.map((f) => cropResize(f.img, f.box, MESH_INPUT_PX)));
    const results: MeshResult[][] = requests.map((r) => r.boxes.map(() => ({ mesh: new Float32Array(MESH_POINTS * 3), score: 0, expression: null })));
    const valid = flat.map((_, i) => i).filter((i) => crops[i] !== null);
    if (valid.length === 0) return results;
    const px = MESH_INPUT_PX * MESH_INPUT_PX * 3;
    const batch = new Float32Array(valid.length * px);
    valid.forEach((fi, k) => {
      const c = crops[fi]!;
      const at = k * px;
      for (let i = 0; i < px; i++) batch[at + i] = BYTE_TO_UNIT[c[i]];
    });
    const [meshT, flagT] = tf.tidy((): tfTypes.Tensor[] => {
      const input = tf.tensor4d(batch, [valid.length, MESH_INPUT_PX, MESH_INPUT_PX, 3]);
      if (this.meshOutputs) return this.meshModel.execute(input, this.meshOutputs) as tfTypes.Tensor[];
      const outs = this.meshModel.execute(input) as tfTypes.Tensor[];
      return [outs.find((t) => t.shape[t.shape.length - 1] === MESH_POINTS * 3)!, outs.find((t) => t.shape[t.shape.length - 1] === 1)!];
    });
    const meshData = meshT.dataSync() as Float32Array;
    const flagData = flagT.dataSync() as Float32Array;
    tf.dispose([meshT, flagT]);
    valid.forEach((fi, k) => {
      const { ri, bi, box } = flat[fi];
      const out = results[ri][bi];
      const s = boxWidth(box) / MESH_INPUT_PX;
      const sY = boxHeight(box) / MESH_INPUT_PX;
      const base = k * MESH_POINTS * 3;
      for (let p = 0; p < MESH_POINTS; p++) {
        out.mesh[p * 3] = box.x0 + meshData[base + p * 3] * s;
        out.mesh[p * 3 + 1] = box.y0 + meshData[base + p * 3 + 1] * sY;
        out.mesh[p * 3 + 2] = meshData[base + p * 3 + 2] * s;
      }
      out.score = flagData[k];
    });
    if (this.expressionModel) await this.expressions(valid.filter((fi) => flat[fi].expr).map((fi) => ({ img: flat[fi].img, out: results[flat[fi].ri][flat[fi].bi] })));
    return results;
  }

  /**
   * The expression net on each face's own crop: the square around its landmarks (EXPRESSION_CROP_SCALE), resized
   * to 64x64, grayscale in [-1, 1], averaged with its mirror image. FER-2013's faces fill their images; on the
   * looser FaceMesh crop (1.45x) the net read most faces of ../shared/faces as happy or angry (models/face/
   * transfer-report.md: the crop chosen leave-one-subject-out took the net from 7 to 10 of 20 clips).
   */
  private async expressions(faces: { img: RgbImage; out: MeshResult }[]): Promise<void> {
    const tf = this.tf;
    const crops = await Promise.all(faces.map((f) => cropResize(f.img, squareAround(boxOfPoints(f.out.mesh, MESH_POINTS), EXPRESSION_CROP_SCALE), EXPRESSION_INPUT_PX)));
    const rows = faces.map((_, i) => i).filter((i) => crops[i] !== null);
    if (rows.length === 0) return;
    // Grayscale and its mirror image are computed here, in float32 steps in the order the tensor ops took before
    // (x = byte / 255; gray = ((x_r * 0.2989 + x_g * 0.587) + x_b * 0.114 - 0.5) * 2): six small kernel calls per
    // pass fewer, same inputs (tests/unit/face/face-models-parity.test.ts).
    const side = EXPRESSION_INPUT_PX;
    const plane = side * side;
    const batch = new Float32Array(2 * rows.length * plane);
    const f = Math.fround;
    rows.forEach((i, k) => {
      const c = crops[i]!;
      const direct = k * plane;
      const mirrored = (rows.length + k) * plane;
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const p = (y * side + x) * 3;
          const sum = f(f(f(BYTE_TO_UNIT[c[p]] * GRAY_WEIGHTS[0]) + f(BYTE_TO_UNIT[c[p + 1]] * GRAY_WEIGHTS[1])) + f(BYTE_TO_UNIT[c[p + 2]] * GRAY_WEIGHTS[2]));
          const g = f(f(sum - 0.5) * 2);
          batch[direct + y * side + x] = g;
          batch[mirrored + y * side + (side - 1 - x)] = g;
        }
      }
    });
    const out = tf.tidy(() => this.expressionModel!.execute(tf.tensor4d(batch, [2 * rows.length, side, side, 1])) as tfTypes.Tensor);
    const both = out.dataSync() as Float32Array;
    out.dispose();
    const n = EXPRESSION_CLASSES.length;
    // Each face's posterior is the mean of its direct and mirrored passes, in float32 as tf.div(tf.add(a, b), 2) was.
    const data = new Float32Array(rows.length * n);
    for (let j = 0; j < data.length; j++) data[j] = f(f(both[j] + both[rows.length * n + j]) / 2);
    rows.forEach((i, k) => (faces[i].out.expression = data.slice(k * n, (k + 1) * n)));
  }

  /** One pass of every network on a blank frame: the first real frame then does not pay for kernel set-up (~100 ms). */
  async warmup(): Promise<void> {
    const img = { rgb: new Uint8Array(256 * 256 * 3).fill(128), width: 256, height: 256, scale: 1, sourceWidth: 256, sourceHeight: 256 };
    await this.detect(img, 0.99, 1);
    await this.landmarks(img, [{ x0: 32, y0: 32, x1: 224, y1: 224 }], true);
  }

  dispose(): void {
    this.detector.dispose();
    this.meshModel.dispose();
    this.expressionModel?.dispose();
  }
}
