import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Feeds, OnnxRunner, RunOptions, TensorData } from '../../../src/contracts/models.js';
import { withCpuFallback, type FallbackInfo } from '../../../src/models/provider-fallback.js';
import { guardSoftwareVulkan, SOFTWARE_VULKAN_DRIVERS } from '../../../src/models/providers.js';

/** A runner that doubles its input; `fails(x)` decides, per call, whether it throws instead. */
function fakeRunner(provider: string, fails: (x: number) => boolean, calls: number[] = []): OnnxRunner {
  return {
    provider,
    run: async (feeds: Feeds): Promise<Record<string, TensorData>> => {
      const x = feeds.x.data[0];
      calls.push(x);
      if (fails(x)) throw new Error(`${provider} cannot run ${x}`);
      return { y: { data: Float32Array.of(2 * x), dims: [1, 1] } };
    },
    dispose: async () => undefined,
  };
}
const feeds = (x: number): Feeds => ({ x: { data: Float32Array.of(x), dims: [1, 1] } });
const BAD_INPUT = -1;

test('a CPU runner is returned as it is: there is nothing to fall back to', () => {
  const cpu = fakeRunner('cpu', () => false);
  const wrapped = withCpuFallback(cpu, { label: 'm', loadCpu: () => Promise.reject(new Error('never')) });
  assert.equal(wrapped.provider, 'cpu');
  assert.equal(wrapped.fallback, null);
});

test('a device that fails mid-run: that run is answered on the CPU, later runs go to the CPU, reported once', async () => {
  let deviceBroken = false;
  const gpuCalls: number[] = [];
  const cpuCalls: number[] = [];
  const logs: string[] = [];
  const infos: FallbackInfo[] = [];
  let cpuLoads = 0;
  const wrapped = withCpuFallback(fakeRunner('webgpu', () => deviceBroken, gpuCalls), {
    label: 'speech.onnx',
    loadCpu: async () => { cpuLoads++; return fakeRunner('cpu', (x) => x === BAD_INPUT, cpuCalls); },
    log: (_level, msg) => logs.push(msg),
    onFallback: (info) => infos.push(info),
  });
  assert.equal((await wrapped.run(feeds(1))).y.data[0], 2);
  assert.equal(wrapped.provider, 'webgpu');
  deviceBroken = true;
  assert.equal((await wrapped.run(feeds(3))).y.data[0], 6, 'the failing call still gets its result');
  assert.equal(wrapped.provider, 'cpu');
  assert.equal(wrapped.fallback?.from, 'webgpu');
  assert.match(wrapped.fallback!.reason, /webgpu cannot run 3/);
  deviceBroken = false; // even if the device recovers, the model stays on the CPU
  assert.equal((await wrapped.run(feeds(4))).y.data[0], 8);
  assert.deepEqual(gpuCalls, [1, 3]);
  assert.deepEqual(cpuCalls, [3, 4]);
  assert.equal(cpuLoads, 1);
  assert.equal(infos.length, 1);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /speech\.onnx: webgpu failed mid-run .*new batches run on cpu/);
});

test('a bad input that fails on the device and on the CPU is the caller\'s error: the device stays in use', async () => {
  const gpuCalls: number[] = [];
  const wrapped = withCpuFallback(fakeRunner('cuda', (x) => x === BAD_INPUT, gpuCalls), {
    label: 'face.onnx',
    loadCpu: async () => fakeRunner('cpu', (x) => x === BAD_INPUT),
  });
  await assert.rejects(wrapped.run(feeds(BAD_INPUT)), /cpu cannot run -1/);
  assert.equal(wrapped.provider, 'cuda');
  assert.equal(wrapped.fallback, null);
  assert.equal((await wrapped.run(feeds(5))).y.data[0], 10);
  assert.deepEqual(gpuCalls, [BAD_INPUT, 5]);
});

test('when the CPU copy cannot load, the device error is reported and the device stays', async () => {
  const logs: string[] = [];
  const wrapped = withCpuFallback(fakeRunner('webgpu', () => true), {
    label: 'm.onnx',
    loadCpu: async () => { throw new Error('out of memory'); },
    log: (_level, msg) => logs.push(msg),
  });
  await assert.rejects(wrapped.run(feeds(1)), /webgpu cannot run 1/);
  assert.equal(wrapped.provider, 'webgpu');
  assert.match(logs.join('\n'), /CPU fallback could not load \(out of memory\)/);
});

test('software Vulkan drivers are hidden unless allowed or the user set a driver filter', () => {
  const env: NodeJS.ProcessEnv = {};
  assert.match(guardSoftwareVulkan(false, env) ?? '', /hidden from WebGPU/);
  assert.equal(env.VK_LOADER_DRIVERS_DISABLE, SOFTWARE_VULKAN_DRIVERS);
  const allowed: NodeJS.ProcessEnv = {};
  assert.equal(guardSoftwareVulkan(true, allowed), null);
  assert.equal(allowed.VK_LOADER_DRIVERS_DISABLE, undefined);
  const userChoice: NodeJS.ProcessEnv = { VK_LOADER_DRIVERS_SELECT: '*nvidia*' };
  assert.equal(guardSoftwareVulkan(false, userChoice), null);
  assert.equal(userChoice.VK_LOADER_DRIVERS_DISABLE, undefined);
});

test('feeds given up by the caller (transferInputs) still reach the CPU intact when the device fails', async () => {
  const seen: { provider: string; x: number; transfer: boolean }[] = [];
  /** Models a worker-thread runner: a moved input buffer is empty afterwards. */
  const moving = (provider: string, fail: boolean): OnnxRunner => ({
    provider,
    run: async (f: Feeds, options?: RunOptions) => {
      seen.push({ provider, x: f.x.data[0], transfer: options?.transferInputs === true });
      if (options?.transferInputs) structuredClone(f.x.data.buffer, { transfer: [f.x.data.buffer as ArrayBuffer] });
      if (fail) throw new Error(`${provider} lost`);
      return { y: { data: Float32Array.of(3), dims: [1, 1] } };
    },
    dispose: async () => undefined,
  });
  const wrapped = withCpuFallback(moving('cuda', true), { label: 'm', loadCpu: async () => moving('cpu', false) });
  const out = await wrapped.run(feeds(7), { transferInputs: true });
  assert.equal(out.y.data[0], 3);
  assert.deepEqual(seen, [{ provider: 'cuda', x: 7, transfer: false }, { provider: 'cpu', x: 7, transfer: false }]);
  await wrapped.run(feeds(8), { transferInputs: true });
  assert.deepEqual(seen[2], { provider: 'cpu', x: 8, transfer: true }, 'after the switch the caller\'s choice applies');
});
