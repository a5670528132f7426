import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { MODEL_SAMPLE_RATE, identityResampler, type MonoResampler } from './audio-input.js';

const { create, ConverterType } = libsamplerate as unknown as {
  create: (ch: number, inRate: number, outRate: number, opts: { converterType: number }) => Promise<{
    full(dataIn: Float32Array): Float32Array;
    destroy(): void;
  }>;
  ConverterType: { SRC_SINC_FASTEST: number; SRC_SINC_MEDIUM_QUALITY: number };
};

/**
 * The async adapter that creates a streaming band-limited resampler (libsamplerate's sinc converter compiled to
 * wasm; `full` API keeps filter state between chunks). 16 kHz input gets the identity.
 */
export async function createMonoResampler(inputRate: number): Promise<MonoResampler> {
  if (inputRate === MODEL_SAMPLE_RATE) return identityResampler;
  const src = await create(1, inputRate, MODEL_SAMPLE_RATE, { converterType: ConverterType.SRC_SINC_FASTEST });
  let destroyed = false;
  return {
    inputRate,
    // `full` returns a view into wasm memory that the next call overwrites: copy it out.
    process: (mono) => (mono.length === 0 ? new Float32Array(0) : Float32Array.from(src.full(mono))),
    dispose: () => {
      if (!destroyed) src.destroy();
      destroyed = true;
    },
  };
}
