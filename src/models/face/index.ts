import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuWindow, FaceModel, ModelStatus, OnnxRunner, OnnxRunnerFactory } from '../../contracts/models.js';
import { AU_COLUMNS, AU_VECTOR_LENGTH, EMOTIONS, NUM_EMOTIONS } from '../../protocol/labels.js';
import { applyMinMax, validateMinMax, type MinMaxParams } from './minmax.js';
import { padAuSequences } from './sequence-batch.js';
import { validateFaceManifest, type FaceManifest } from './manifest.js';

export const DEFAULT_FACE_DIR = 'models/face';
const NAME = 'face-au';

/**
 * Loads the shipped face model (models/face/model.json). Never throws: a missing or corrupt file gives a model whose
 * status() is `available: false` with the reason, and whose inferBatch rejects with it.
 */
export async function loadFaceModel(opts: { dir?: string; runnerFactory: OnnxRunnerFactory }): Promise<FaceModel> {
  const dir = resolve(opts.dir ?? DEFAULT_FACE_DIR);
  try {
    const manifestPath = join(dir, 'model.json');
    if (!existsSync(manifestPath)) throw new Error(`${manifestPath}: face model manifest not found (run: emostream train face)`);
    const manifest = validateFaceManifest(parseJson(manifestPath), manifestPath);
    const staticNorm = readNormaliser(join(dir, manifest.static.normaliser));
    const staticPath = requireFile(join(dir, manifest.static.onnx));
    const staticRunner = await createRunner(opts.runnerFactory, staticPath);
    let sequence: { runner: OnnxRunner; norm: MinMaxParams; manifest: NonNullable<FaceManifest['sequence']> } | null = null;
    if (manifest.sequence) {
      const seqPath = requireFile(join(dir, manifest.sequence.onnx));
      sequence = { runner: await createRunner(opts.runnerFactory, seqPath), norm: readNormaliser(join(dir, manifest.sequence.normaliser)), manifest: manifest.sequence };
    }
    return new OnnxFaceModel(dir, manifest, staticRunner, staticNorm, sequence);
  } catch (err) {
    return unavailableFaceModel(dir, err instanceof Error ? err.message : String(err));
  }
}

function parseJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function requireFile(path: string): string {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  return path;
}

function readNormaliser(path: string): MinMaxParams {
  requireFile(path);
  return validateMinMax(parseJson(path), AU_VECTOR_LENGTH, path);
}

async function createRunner(factory: OnnxRunnerFactory, path: string): Promise<OnnxRunner> {
  try {
    return await factory(path);
  } catch (err) {
    throw new Error(`${path}: cannot load ONNX model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

function unavailableFaceModel(dir: string, error: string): FaceModel {
  return {
    name: NAME,
    modality: 'face',
    status: (): ModelStatus => ({ name: NAME, modality: 'face', available: false, error, path: dir, labels: EMOTIONS }),
    inferBatch: () => Promise.reject(new Error(`face model unavailable: ${error}`)),
    dispose: async () => {},
  };
}

/** Checks one window's shape and values; the error names the window's index in the batch. */
function checkWindow(w: AuWindow, i: number): void {
  if (!Number.isInteger(w.frames) || w.frames < 0) throw new Error(`face window ${i}: frames must be a non-negative integer, got ${w.frames}`);
  if (w.aus.length !== w.frames * AU_VECTOR_LENGTH) {
    throw new Error(`face window ${i}: ${w.aus.length} AU values for ${w.frames} frames (expected frames x ${AU_VECTOR_LENGTH})`);
  }
  for (let j = 0; j < w.aus.length; j++) {
    if (!Number.isFinite(w.aus[j])) throw new Error(`face window ${i}: frame ${Math.floor(j / AU_VECTOR_LENGTH)} column ${AU_COLUMNS[j % AU_VECTOR_LENGTH]} is not finite`);
  }
}

/** Mean AU vector over the window's frames (the static model's input). */
export function meanAus(w: AuWindow): Float32Array {
  const mean = new Float32Array(AU_VECTOR_LENGTH);
  for (let f = 0; f < w.frames; f++) for (let j = 0; j < AU_VECTOR_LENGTH; j++) mean[j] += w.aus[f * AU_VECTOR_LENGTH + j];
  for (let j = 0; j < AU_VECTOR_LENGTH; j++) mean[j] /= w.frames;
  return mean;
}

class OnnxFaceModel implements FaceModel {
  readonly name = NAME;
  readonly modality = 'face' as const;
  private disposed = false;

  constructor(
    private readonly dir: string,
    private readonly manifest: FaceManifest,
    private readonly staticRunner: OnnxRunner,
    private readonly staticNorm: MinMaxParams,
    private readonly sequence: { runner: OnnxRunner; norm: MinMaxParams; manifest: NonNullable<FaceManifest['sequence']> } | null,
  ) {}

  status(): ModelStatus {
    return {
      name: NAME, modality: 'face', available: !this.disposed, error: this.disposed ? 'disposed' : undefined,
      provider: this.staticRunner.provider, path: this.dir, labels: EMOTIONS,
      details: {
        mode: this.sequence ? 'sequence (bi-LSTM + attention over the window\'s frames)' : 'static (model on the window\'s mean AUs; no per-frame training data for the sequence model)',
        staticModel: this.manifest.static.spec,
        input: `AuWindow: frames x ${AU_VECTOR_LENGTH} OpenFace AUs (${AU_COLUMNS[0]}..${AU_COLUMNS[AU_VECTOR_LENGTH - 1]}), intensities 0-5, presences 0-1`,
        emptyWindow: 'a window with 0 frames gets a uniform posterior (no evidence)',
      },
    };
  }

  async inferBatch(windows: AuWindow[]): Promise<Float32Array[]> {
    if (this.disposed) throw new Error('face model disposed');
    windows.forEach(checkWindow);
    const out: Float32Array[] = windows.map(() => new Float32Array(NUM_EMOTIONS).fill(1 / NUM_EMOTIONS));
    const live = windows.map((w, i) => (w.frames > 0 ? i : -1)).filter((i) => i >= 0);
    if (live.length === 0) return out;
    const probs = this.sequence ? await this.runSequence(live.map((i) => windows[i])) : await this.runStatic(live.map((i) => windows[i]));
    live.forEach((wi, j) => out[wi].set(probs.subarray(j * NUM_EMOTIONS, (j + 1) * NUM_EMOTIONS)));
    return out;
  }

  private async runStatic(windows: AuWindow[]): Promise<Float32Array> {
    const x = new Float32Array(windows.length * AU_VECTOR_LENGTH);
    windows.forEach((w, i) => x.set(applyMinMax(this.staticNorm, meanAus(w)), i * AU_VECTOR_LENGTH));
    const res = await this.staticRunner.run({ [this.manifest.static.input]: { data: x, dims: [windows.length, AU_VECTOR_LENGTH] } }, { transferInputs: true });
    return outputOf(res, this.manifest.static.output, windows.length);
  }

  private async runSequence(windows: AuWindow[]): Promise<Float32Array> {
    const seq = this.sequence!;
    const { aus: x, mask, steps: t } = padAuSequences(windows, seq.norm, seq.manifest.maxFrames);
    const res = await seq.runner.run({
      [seq.manifest.input]: { data: x, dims: [windows.length, t, AU_VECTOR_LENGTH] },
      [seq.manifest.mask]: { data: mask, dims: [windows.length, t] },
    }, { transferInputs: true });
    return outputOf(res, seq.manifest.output, windows.length);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.staticRunner.dispose();
    await this.sequence?.runner.dispose();
  }
}

function outputOf(res: Record<string, { data: Float32Array; dims: number[] }>, name: string, batch: number): Float32Array {
  const o = res[name];
  if (!o || o.data.length !== batch * NUM_EMOTIONS) throw new Error(`face model output '${name}' missing or not [${batch}, ${NUM_EMOTIONS}]`);
  return o.data;
}
