import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium, makeFakeMedia, runPage } from '../../browser/harness.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { SECRET, token } from '../../helpers/auth.js';

/** The web page with access control: the token from its URL on WebSocket and WHIP, and a readable refusal. */
describe('web page with auth on', { skip: hasChromium() ? false : `needs Chromium at ${CHROMIUM}`, timeout: 120_000 }, () => {
  let ts: TestServer;
  let ctx: BrowserContext;
  let base: string;
  before(async () => {
    ts = await startTestServer('uws', { server: { auth: { mode: 'jwt', jwt: { secret: SECRET } } }, http: { staticDir: resolve('clients/web') }, plugins: ['../webrtc/index.ts'] });
    base = ts.url.replace('ws://', 'http://');
    ctx = await launchChromium(await makeFakeMedia());
  });
  after(async () => {
    await ctx?.close();
    await ts.close();
  });

  for (const transport of ['ws', 'webrtc']) {
    test(`?access_token= with the publish scope streams over ${transport}`, async () => {
      const run = await runPage(ctx, base, `transport=${transport}&camera=none&access_token=${await token('browser', ['publish'])}`, 3);
      assert.deepEqual(run.errors, []);
      assert.equal(run.transport, transport === 'ws' ? 'websocket' : 'webrtc');
      assert.ok(run.results.length >= 2, `${run.results.length} results`);
    });
  }

  test('a refused credential is explained on the page, and the token leaves the address bar', async () => {
    const page = await ctx.newPage();
    try {
      await page.goto(`${base}/?transport=ws&camera=none&access_token=${await token('browser', ['subscribe'])}`);
      assert.ok(!page.url().includes('access_token'), page.url());
      await page.click('#start');
      await page.waitForFunction(() => (window as unknown as { emostream: { errors: unknown[] } }).emostream.errors.length > 0, undefined, { timeout: 15_000 });
      const status = await page.textContent('#status');
      assert.match(status ?? '', /EMO_ERR_FORBIDDEN.*publish scope/);
      await page.goto(`${base}/?transport=ws&camera=none`);
      await page.click('#start');
      await page.waitForFunction(() => (window as unknown as { emostream: { errors: unknown[] } }).emostream.errors.length > 0, undefined, { timeout: 15_000 });
      assert.match(await page.textContent('#status') ?? '', /EMO_ERR_UNAUTHORIZED.*access_token=/);
    } finally {
      await page.close();
    }
  });
});
