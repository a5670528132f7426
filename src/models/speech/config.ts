import { z } from 'zod';
import { EMOTIONS } from '../../protocol/labels.js';
import { rawFunctionalCount } from '../../features/functionals.js';

/**
 * `model.json` of a speech model directory. Two kinds share one loader:
 * - `features`: emostream's own network; the stream computes log-mel frames (src/features) and a running per-speaker
 *   normaliser, the ONNX graph maps features [batch, windowFrames, melBands] to logits [batch, 8].
 * - `raw-audio`: a bring-your-own wav2vec2-style ONNX model: float32 [batch, samples] of 16 kHz audio in,
 *   logits [batch, 8] out (EMOTIONS order).
 */
const melSchema = z.object({
  sampleRate: z.number().int().positive(),
  frameSamples: z.number().int().positive(),
  hopSamples: z.number().int().positive(),
  fftSize: z.number().int().positive(),
  melBands: z.number().int().positive(),
  fMinHz: z.number().nonnegative(),
  fMaxHz: z.number().positive(),
  logFloor: z.number().positive(),
});

const common = {
  name: z.string().min(1).default('speech'),
  onnx: z.string().min(1),
  sampleRate: z.literal(16000, { message: 'emostream streams 16 kHz mono audio; the model must take 16000 Hz input' }),
  labels: z.array(z.string()).length(EMOTIONS.length).refine((l) => l.every((x, i) => x === EMOTIONS[i]), {
    message: `labels must be exactly ${EMOTIONS.join(',')} (RAVDESS order)`,
  }).default([...EMOTIONS]),
  /** Samples in the window the model was trained on; windows of other lengths are padded/cropped on the left. */
  windowSamples: z.number().int().positive(),
  /** Suggested hop between windows (the server may use its own). */
  hopSamples: z.number().int().positive().default(8000),
  inputName: z.string().optional(),
  outputName: z.string().optional(),
};

/**
 * Optional second input of a features model: window functionals (src/features/functionals.ts) of the normalised
 * log-mel window and a YIN pitch track the stream computes per frame, as float32 [batch, count].
 */
const functionalsSchema = z.object({
  inputName: z.string().min(1),
  count: z.number().int().positive(),
  pitch: z.object({
    bufferSamples: z.number().int().positive(),
    minHz: z.number().positive(),
    maxHz: z.number().positive(),
    threshold: z.number().positive(),
    minMeanSquare: z.number().nonnegative(),
  }),
  pitchPrior: z.object({ meanLog2Hz: z.number(), weightFrames: z.number().nonnegative() }),
  /** The functionals include the voice-quality group (src/features/functionals.ts); absent = the base set only. */
  voiceQuality: z.boolean().optional(),
  /** The functionals include the spectro-temporal group (after voice quality); absent = not. */
  spectroTemporal: z.boolean().optional(),
  /** The functionals include the shape group (last); absent = not. */
  shape: z.boolean().optional(),
  /**
   * Present when the model takes the functionals z-scored per speaker (after the raw ones with keepRaw, count = 2 x
   * the raw functionals): the running normaliser's prior (the training speakers' average statistics) and how many
   * windows it counts for.
   */
  speakerNorm: z.object({
    mean: z.array(z.number()), std: z.array(z.number().positive()), weightWindows: z.number().nonnegative(),
    /** true: the input is [raw, normalised]; false: the normalised functionals only. */
    keepRaw: z.boolean(),
  }).optional(),
}).passthrough();

export const featuresModelSchema = z.object({
  kind: z.literal('features'),
  ...common,
  windowFrames: z.number().int().positive(),
  mel: melSchema,
  activityGate: z.number(),
  prior: z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()), weightFrames: z.number().nonnegative() }),
  functionals: functionalsSchema.optional(),
}).passthrough();

export const rawAudioModelSchema = z.object({
  kind: z.literal('raw-audio'),
  ...common,
  /** Zero-mean, unit-variance per window (Wav2Vec2FeatureExtractor do_normalize=True). */
  normalize: z.boolean().default(true),
}).passthrough();

export const speechModelConfigSchema = z.discriminatedUnion('kind', [featuresModelSchema, rawAudioModelSchema]);

export type FeaturesModelConfig = z.infer<typeof featuresModelSchema>;
export type RawAudioModelConfig = z.infer<typeof rawAudioModelSchema>;
export type SpeechModelConfig = z.infer<typeof speechModelConfigSchema>;
export type SpeechModelConfigInput = z.input<typeof speechModelConfigSchema>;

/** Parses a config with one readable error listing every problem (path: message). */
export function parseSpeechModelConfig(raw: unknown, where = 'model.json'): SpeechModelConfig {
  const r = speechModelConfigSchema.safeParse(raw);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: invalid speech model config: ${detail}`);
  }
  const cfg = r.data;
  if (cfg.kind === 'features') {
    if (cfg.mel.sampleRate !== cfg.sampleRate) throw new Error(`${where}: mel.sampleRate ${cfg.mel.sampleRate} differs from sampleRate ${cfg.sampleRate}`);
    if (cfg.prior.mean.length !== cfg.mel.melBands || cfg.prior.std.length !== cfg.mel.melBands) {
      throw new Error(`${where}: prior statistics must have ${cfg.mel.melBands} values per band`);
    }
    const f = cfg.functionals;
    if (f) {
      const raw = rawFunctionalCount(f.voiceQuality === true, f.spectroTemporal === true, f.shape === true);
      const expected = f.speakerNorm?.keepRaw ? 2 * raw : raw;
      if (f.count !== expected) {
        throw new Error(`${where}: functionals.count ${f.count}, this server computes ${expected} window functionals${f.speakerNorm ? (f.speakerNorm.keepRaw ? ' (raw and speaker-normalised)' : ' (speaker-normalised)') : ''}`);
      }
      if (f.speakerNorm && (f.speakerNorm.mean.length !== raw || f.speakerNorm.std.length !== raw)) {
        throw new Error(`${where}: functionals.speakerNorm must hold ${raw} means and standard deviations`);
      }
      if (f.pitch.bufferSamples < cfg.mel.frameSamples || (f.pitch.bufferSamples & (f.pitch.bufferSamples - 1)) !== 0) {
        throw new Error(`${where}: functionals.pitch.bufferSamples must be a power of two >= the mel frame (${cfg.mel.frameSamples})`);
      }
      if (f.pitch.minHz >= f.pitch.maxHz) throw new Error(`${where}: functionals.pitch.minHz must be below maxHz`);
      if (f.inputName === cfg.inputName) throw new Error(`${where}: functionals.inputName must differ from inputName`);
    }
  }
  return cfg;
}
