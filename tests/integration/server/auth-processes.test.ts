import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../../src/cluster/processes.js';
import { loadConfig } from '../../../src/server/config.js';
import { refused, SECRET, token } from '../../helpers/auth.js';
import { connectPublisher, connectSubscriber, droppedAtConnect } from '../../helpers/connect-retry.js';

test('two server processes with auth on: ownership and pinned names hold across processes', async (t) => {
  const s = await startServer(loadConfig({
    env: {},
    overrides: {
      server: { host: '127.0.0.1', port: 0, processes: 2, auth: { mode: 'jwt', jwt: { secret: SECRET } } },
      streaming: { featureWorkers: 0 }, models: { video: { enabled: false } }, log: { level: 'silent' },
    },
  }));
  const url = `ws://127.0.0.1:${s.port}`;
  try {
    const sessions = 12;
    const clients = await Promise.all(Array.from({ length: sessions }, () => token('alice', ['publish']).then((jwt) => connectPublisher({ url, token: jwt }))));
    const onFirst = clients.filter((c) => s.first.sessions.get(c.sessionId)).length;
    assert.ok(onFirst > 0 && onFirst < sessions, `${onFirst} of ${sessions} sessions on the first process (both are exercised)`);
    const aliceSub = await token('alice', ['subscribe']);
    const bobSub = await token('bob', ['subscribe']);
    for (const c of clients) {
      // Wherever the upgrade lands, the owner is found (on this process or in the cluster directory).
      const sub = await connectSubscriber(url, c.sessionId, { token: aliceSub });
      const first = await sub.messages().next();
      const why = first.done ? `closed before any message: ${JSON.stringify(await sub.closed())}` : '';
      assert.equal((first.value as { type: string } | undefined)?.type, 'subscribed', why);
      sub.close();
      await refused(`${url}/v1/subscribe?session=${c.sessionId}`, { token: bobSub }, 403, 'EMO_ERR_FORBIDDEN');
    }
    // A named session is refused while live, whichever process the second publisher reaches.
    const named = await connectPublisher({ url, token: await token('alice', ['publish'], { session: 'loops-room' }) });
    assert.equal(named.sessionId, 'loops-room');
    for (let i = 0; i < 6; i++) await refused(`${url}/v1/stream`, { token: await token('alice', ['publish'], { session: 'loops-room' }) }, 403, 'EMO_ERR_FORBIDDEN');
    await Promise.all([...clients, named].map((c) => c.end()));
    t.diagnostic(`connections the server dropped with 1006 right after the upgrade and that were retried once (known defect, docs/scale-out.md): ${droppedAtConnect.count}`);
  } finally {
    await s.close();
  }
});
