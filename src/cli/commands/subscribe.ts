import type { Command } from 'commander';
import { EmoSubscriber } from '../../../clients/node/client.js';
import { formatResult } from '../../../clients/node/timeline.js';

/** `emostream subscribe <sessionId>`: print another session's results as they arrive. */
export function register(program: Command): void {
  program.command('subscribe <sessionId>')
    .description("Print another session's results live")
    .option('-u, --url <url>', 'server URL', process.env.EMOSTREAM_URL ?? 'ws://localhost:8080')
    .option('--token <token>', 'credential (JWT or API key) sent as Authorization: Bearer (env EMOSTREAM_TOKEN)', process.env.EMOSTREAM_TOKEN)
    .option('--json', 'one JSON message per line')
    .option('--since <hop>', 'first replay the stored results from this hop (server with history)')
    .action(async (sessionId: string, o: { url: string; json?: boolean; token?: string; since?: string }) => {
      const since = o.since === undefined ? undefined : Number(o.since);
      if (since !== undefined && (!Number.isInteger(since) || since < 0)) throw new Error(`--since ${o.since}: expected a hop number >= 0`);
      const sub = await EmoSubscriber.connect(o.url, sessionId, 10000, { token: o.token, since });
      for await (const m of sub.messages()) {
        if (o.json) process.stdout.write(JSON.stringify(m) + '\n');
        else if (m.type === 'emotion') process.stdout.write(formatResult(m, null) + '\n');
        else if (m.type === 'subscribed') process.stdout.write(`subscribed to ${m.sessionId}${m.replay ? ` (replaying ${m.replay.results} stored results from hop ${m.replay.fromHop})` : ''}\n`);
        else if (m.type === 'end') process.stdout.write(`session ended (${m.reason}): ${m.results} results, ${m.droppedWindows} dropped windows\n`);
        else if (m.type === 'error') process.stderr.write(`${m.code}: ${m.message}\n`);
      }
      const close = await sub.closed();
      if (close.code !== 1000) process.exitCode = 1;
    });
}
