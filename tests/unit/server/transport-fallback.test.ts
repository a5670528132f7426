import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createEmoServer } from '../../../src/server/app.js';
import { loadConfig } from '../../../src/server/config.js';
import type { ModelLoaders } from '../../../src/models/registry.js';

const none: ModelLoaders = {
  speech: async () => { throw new Error('none'); },
  face: async () => { throw new Error('none'); },
  fusion: async () => { throw new Error('none'); },
  video: async () => { throw new Error('none'); },
};

test('when uWebSockets.js cannot load, the server falls back to ws with one warning and serves', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => { lines.push(s); } });
  const config = loadConfig({ env: {}, overrides: { server: { host: '127.0.0.1', port: 0, transport: 'uws' }, plugins: [], http: { staticDir: '/nonexistent' }, storage: { databaseUrl: 'none' } } });
  const server = await createEmoServer({ config, logger, loaders: none, uwsLoader: () => { throw new Error('no binary for this ABI'); } });
  assert.equal(server.transportName, 'ws');
  const port = await server.listen();
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  await server.close();
  const warn = lines.map((l) => JSON.parse(l) as { msg: string; err?: string }).filter((l) => /falling back to the ws transport/.test(l.msg));
  assert.equal(warn.length, 1);
  assert.match(warn[0].err!, /no binary for this ABI/);
});
