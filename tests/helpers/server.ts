import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createEmoServer, type EmoServer } from '../../src/server/app.js';
import { loadConfig, type ConfigInput } from '../../src/server/config.js';
import { buildTinyModels, tinyLoaders, type TinyDirs } from './tiny-models.js';
import type { ModelLoaders } from '../../src/models/registry.js';

export const TRANSPORTS = ['uws', 'ws'] as const;

export interface TestServer {
  server: EmoServer;
  url: string;
  dirs: TinyDirs;
  close(): Promise<void>;
}

/**
 * The real server on port 0 with tiny ONNX models (built into a temp dir and passed via config, run by the real
 * worker pool and batcher), short windows so tests run in seconds, and no plugins.
 */
export async function startTestServer(transport: 'uws' | 'ws', overrides: ConfigInput = {}, loaders: ModelLoaders = tinyLoaders(), logger?: Logger): Promise<TestServer> {
  const root = mkdtempSync(join(tmpdir(), 'emo-it-'));
  const dirs = buildTinyModels(root);
  const base: ConfigInput = {
    server: { host: '127.0.0.1', port: 0, transport, maxFrameBytes: 256 * 1024, shutdownGraceMs: 2000, ...overrides.server },
    http: { staticDir: join(root, 'no-web'), ...overrides.http },
    streaming: { windowMs: 1000, hopMs: 250, ...overrides.streaming },
    models: {
      ...overrides.models,
      speech: { dir: dirs.speech, ...overrides.models?.speech },
      face: { dir: dirs.face, ...overrides.models?.face },
    },
    log: { level: 'silent' },
    // No history unless a test asks for it (the default would write ./data/emostream.sqlite).
    storage: { databaseUrl: 'none', ...overrides.storage },
    plugins: overrides.plugins ?? [],
    ...(overrides.alerts ? { alerts: overrides.alerts } : {}),
  };
  const config = loadConfig({ env: {}, overrides: base });
  const server = await createEmoServer({ config, loaders, logger: logger ?? pino({ level: process.env.EMOSTREAM_TEST_LOG ?? 'silent' }) });
  const port = await server.listen();
  return {
    server,
    url: `ws://127.0.0.1:${port}`,
    dirs,
    close: async () => {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
