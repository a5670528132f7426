import * as ort from 'onnxruntime-node';

export type ProviderChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/**
 * The order `auto` tries: CUDA first (fastest where an NVIDIA GPU and the cuda12 binaries are installed), then WebGPU
 * (Dawn; Vulkan/Metal/D3D12 GPUs), then the CPU, which always works. A provider that fails to create a session is
 * skipped with one log line naming the reason.
 */
export const AUTO_ORDER: readonly Exclude<ProviderChoice, 'auto'>[] = ['cuda', 'webgpu', 'cpu'];

export interface BackendInfo {
  name: string;
  bundled: boolean;
}

/** What this onnxruntime-node build says it supports (1.30: cpu, webgpu bundled; cuda, tensorrt need extra binaries). */
export function supportedBackends(): BackendInfo[] {
  const list = (ort as unknown as { listSupportedBackends?: () => BackendInfo[] }).listSupportedBackends;
  return typeof list === 'function' ? list() : [{ name: 'cpu', bundled: true }];
}

/**
 * Providers to try, in order, for a configured choice. `auto` -> AUTO_ORDER filtered by the build's list; an explicit
 * provider -> just that one (no silent CPU fallback: asking for CUDA and getting CPU would misreport performance).
 * Throws a clear error when the build does not list an explicitly requested provider.
 */
export function providerCandidates(choice: ProviderChoice, backends: BackendInfo[] = supportedBackends()): string[] {
  const names = new Set(backends.map((b) => b.name));
  if (choice === 'auto') return AUTO_ORDER.filter((p) => p === 'cpu' || names.has(p));
  if (choice !== 'cpu' && !names.has(choice)) {
    throw new Error(`execution provider '${choice}' is not supported by this onnxruntime-node build (it lists: ${[...names].join(', ')}); use models.executionProvider: auto or cpu`);
  }
  return [choice];
}

/** Vulkan drivers that emulate a GPU on the CPU: Mesa's lavapipe and Google's SwiftShader. */
export const SOFTWARE_VULKAN_DRIVERS = '*lvp*,*swiftshader*';

/**
 * Keeps WebGPU off software Vulkan devices unless allowed: with Mesa 24+ installed (lavapipe), Dawn offers a "GPU"
 * on any Linux host, and `auto` would pick it over the CPU provider although it runs the same work on the CPU, far
 * slower. Uses the Vulkan loader's driver filter (loader 1.3.234+), which the loader reads when ONNX Runtime creates
 * its Vulkan instance, so this must run before the first WebGPU session. A filter the user set is left alone.
 * Returns what it did, for the start-up log.
 */
export function guardSoftwareVulkan(allowSoftware: boolean, env: NodeJS.ProcessEnv = process.env): string | null {
  if (allowSoftware || env.VK_LOADER_DRIVERS_SELECT || env.VK_LOADER_DRIVERS_DISABLE) return null;
  env.VK_LOADER_DRIVERS_DISABLE = SOFTWARE_VULKAN_DRIVERS;
  return `software Vulkan drivers (${SOFTWARE_VULKAN_DRIVERS}) hidden from WebGPU; set models.allowSoftwareAdapter to use them`;
}
