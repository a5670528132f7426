import { workerData } from 'node:worker_threads';
import { serve } from '../../src/runtime/serve.js';

/** A real worker for tests/unit/runtime/worker-channel.test.ts: each op exercises one path of the channel. */
export type ChannelTestOp =
  | { op: 'echo'; value: unknown }
  | { op: 'sleep'; ms: number }
  | { op: 'crash'; code: number }
  | { op: 'throw'; message: string; code: string }
  | { op: 'sum'; data: Float32Array }
  | { op: 'progress'; steps: number };

const init = (workerData ?? {}) as { failInit?: string; initValue?: unknown };

serve<ChannelTestOp>({
  init: () => {
    if (init.failInit) throw new Error(init.failInit);
    return init.initValue ?? { threadStarted: true };
  },
  handle: async (req, ctx) => {
    switch (req.op) {
      case 'echo': return req.value;
      case 'sleep': await new Promise((r) => setTimeout(r, req.ms)); return req.ms;
      case 'crash': process.exit(req.code); break;
      case 'throw': throw Object.assign(new Error(req.message), { code: req.code, transient: true });
      case 'sum': {
        // Answers with a new buffer, moved back; reports what it received so the test sees the move.
        const out = Float32Array.of(req.data.reduce((s, v) => s + v, 0), req.data.byteLength);
        ctx.transfer(out.buffer);
        return out;
      }
      case 'progress':
        for (let i = 0; i < req.steps; i++) ctx.emit({ step: i });
        return req.steps;
    }
    return null;
  },
});
