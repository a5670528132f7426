import type { Feeds, OnnxRunner, RunOptions, TensorData } from '../contracts/models.js';

export interface CpuFallbackOptions {
  /** Model label for log lines. */
  label: string;
  /** Loads the same model on the CPU provider (called once, at the first failure). */
  loadCpu: () => Promise<OnnxRunner>;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Called once, when the runner switches to the CPU. */
  onFallback?: (info: FallbackInfo) => void;
}

/** What a runner that fell back reports about it (for /v1/models). */
export interface FallbackInfo {
  from: string;
  reason: string;
  atIso: string;
}

export type FallbackRunner = OnnxRunner & { readonly fallback: FallbackInfo | null };

/**
 * Wraps an accelerator runner (CUDA, WebGPU) so that a device failing mid-run does not take the model down: when a
 * run fails, the same feeds are run on a CPU session of the same model. If the CPU run succeeds the fault was the
 * device's, so this run's caller gets the CPU result and every later run goes to the CPU (one error line, and
 * `provider` / `fallback` say so); if the CPU run fails too, the input was at fault, the error goes to the caller
 * and the accelerator stays in use. The switch is for the life of the process: a device that failed once is not
 * trusted again without a restart, so the reported provider never flips back and forth.
 */
export function withCpuFallback(primary: OnnxRunner, opts: CpuFallbackOptions): FallbackRunner {
  if (primary.provider === 'cpu') return Object.assign(primary, { fallback: null });
  let cpu: Promise<OnnxRunner> | null = null;
  let active: OnnxRunner = primary;
  let fallback: FallbackInfo | null = null;
  const cpuRunner = () => (cpu ??= opts.loadCpu());

  return {
    get provider() {
      return active.provider;
    },
    get fallback() {
      return fallback;
    },
    async run(feeds: Feeds, options?: RunOptions): Promise<Record<string, TensorData>> {
      if (active !== primary) return active.run(feeds, options);
      try {
        // Never moved to the device's worker: a failure re-runs these same feeds on the CPU.
        return await primary.run(feeds);
      } catch (deviceErr) {
        let onCpu: OnnxRunner;
        try {
          onCpu = await cpuRunner();
        } catch (loadErr) {
          opts.log?.('error', `${opts.label}: ${primary.provider} run failed and the CPU fallback could not load (${message(loadErr)})`);
          throw deviceErr;
        }
        // A CPU failure here means the input was bad: reject with the CPU's reason, keep the device.
        const out = await onCpu.run(feeds);
        if (active === primary) {
          fallback = { from: primary.provider, reason: message(deviceErr), atIso: new Date().toISOString() };
          active = onCpu;
          opts.log?.('error', `${opts.label}: ${primary.provider} failed mid-run (${fallback.reason}); new batches run on cpu`);
          opts.onFallback?.(fallback);
        }
        return out;
      }
    },
    async dispose(): Promise<void> {
      await Promise.all([primary.dispose(), cpu?.then((r) => r.dispose(), () => undefined)]);
    },
  };
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 300);
}
