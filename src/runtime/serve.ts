import type { Transferable } from 'node:worker_threads';
import { parentServePort, toWireError, type FromWorkerEnvelope, type ServePort, type ToWorkerEnvelope } from './endpoint.js';

/** What a request handler may do besides returning its answer. */
export interface ServeContext {
  /** Moves these buffers with the answer instead of copying them (they must belong to the answer). */
  transfer(...buffers: Transferable[]): void;
  /** An unsolicited message to the channel's `onEvent` (progress lines and the like). */
  emit(event: unknown, transfer?: Transferable[]): void;
}

export interface ServeOptions<Req> {
  /** Runs once before any request; its value reaches the channel's `start()`; a throw fails the start with its text. */
  init?: () => unknown;
  /** Answers one request (or a one-way note, whose answer is dropped). A throw becomes the caller's rejection. */
  handle: (request: Req, ctx: ServeContext) => unknown;
  port?: ServePort;
}

/**
 * The worker side of a WorkerChannel (src/runtime/worker-channel.ts): call once at the top of the worker module.
 * Requests are handled in arrival order, each as soon as it arrives (an async handler may overlap with the next);
 * a worker that needs them one at a time serialises inside its handler.
 */
export function serve<Req>(opts: ServeOptions<Req>): void {
  const port = opts.port ?? parentServePort();
  const post = (m: FromWorkerEnvelope, transfer?: Transferable[]) => port.post(m, transfer);
  let initError: unknown = null;
  let ready = false;
  const initDone = (async () => {
    try {
      const value = await opts.init?.();
      ready = true;
      post({ k: 'ready', ok: true, value });
    } catch (err) {
      initError = err;
      post({ k: 'ready', ok: false, error: toWireError(err) });
    }
  })();

  const answer = async (env: ToWorkerEnvelope) => {
    const transfer: Transferable[] = [];
    const ctx: ServeContext = { transfer: (...b) => { transfer.push(...b); }, emit: (event, t) => post({ k: 'evt', event }, t) };
    try {
      if (!ready) await initDone;
      if (initError) throw initError;
      const value = await opts.handle(env.body as Req, ctx);
      if (env.rid !== 0) post({ k: 'res', rid: env.rid, ok: true, value }, transfer);
    } catch (err) {
      if (env.rid !== 0) post({ k: 'res', rid: env.rid, ok: false, error: toWireError(err) });
    }
  };
  port.onMessage((m) => {
    const env = m as ToWorkerEnvelope;
    if (env && env.k === 'req') void answer(env);
  });
}
