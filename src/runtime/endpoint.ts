import type { ChildProcess } from 'node:child_process';
import { parentPort, type MessagePort, type Transferable, type Worker } from 'node:worker_threads';

/**
 * What a WorkerChannel needs of the other side, so one channel drives a worker thread or a child process alike.
 * `onExit` fires once, when the other side is gone (an uncaught error or an exit, whichever comes first).
 */
export interface ChannelEndpoint {
  post(message: unknown, transfer?: readonly Transferable[]): void;
  onMessage(fn: (message: unknown) => void): void;
  onExit(fn: (err: Error) => void): void;
  /** Stops the other side; `onExit` fires for it like for a crash. */
  terminate(): Promise<void>;
  /** The other side does not keep this process alive. */
  unref(): void;
}

/** The worker side's view of its parent: parentPort in a worker thread, process.send in a child process. */
export interface ServePort {
  post(message: unknown, transfer?: readonly Transferable[]): void;
  onMessage(fn: (message: unknown) => void): void;
}

/** Envelope from the channel to the worker: `rid` 0 is a one-way note (no reply). */
export interface ToWorkerEnvelope { k: 'req'; rid: number; body: unknown }

/** An error as it crosses the boundary: its text and its own plain fields (code, transient, ...). */
export interface WireError { message: string; details: Record<string, unknown>; stack?: string }

export type FromWorkerEnvelope =
  | { k: 'ready'; ok: true; value: unknown }
  | { k: 'ready'; ok: false; error: WireError }
  | { k: 'res'; rid: number; ok: true; value: unknown }
  | { k: 'res'; rid: number; ok: false; error: WireError }
  | { k: 'evt'; event: unknown };

export function threadEndpoint(worker: Worker): ChannelEndpoint {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as Transferable[] | undefined),
    onMessage: (fn) => { worker.on('message', fn); },
    onExit: (fn) => {
      let gone = false;
      const once = (err: Error) => { if (!gone) { gone = true; fn(err); } };
      worker.on('error', (err) => once(err));
      worker.on('exit', (code) => once(new Error(`exited with code ${code}`)));
    },
    terminate: async () => { await worker.terminate(); },
    unref: () => worker.unref(),
  };
}

/**
 * A child process started with `fork(..., { serialization: 'advanced' })` (typed arrays survive the trip). Transfer
 * lists do not apply between processes: buffers are copied.
 */
export function processEndpoint(child: ChildProcess): ChannelEndpoint {
  return {
    post: (message) => { child.send(message as never); },
    onMessage: (fn) => { child.on('message', fn); },
    onExit: (fn) => {
      let gone = false;
      const once = (err: Error) => { if (!gone) { gone = true; fn(err); } };
      child.on('error', (err) => once(err));
      child.on('exit', (code, signal) => once(new Error(signal ? `was killed by ${signal}` : `exited with code ${code}`)));
    },
    terminate: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
    unref: () => { child.unref(); child.channel?.unref(); },
  };
}

/** The worker side in a worker thread (default) or, with `process.send`, in a forked child process. */
export function parentServePort(): ServePort {
  const port: MessagePort | null = parentPort;
  if (port) return { post: (m, transfer) => port.postMessage(m, transfer as Transferable[] | undefined), onMessage: (fn) => { port.on('message', fn); } };
  if (process.send) {
    const send = process.send.bind(process);
    return { post: (m) => { send(m as never); }, onMessage: (fn) => { process.on('message', fn); } };
  }
  throw new Error('serve() must run in a worker thread or a forked child process');
}

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { message: String(err), details: {} };
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) details[k] = v;
  return { message: err.message, details, stack: err.stack };
}
