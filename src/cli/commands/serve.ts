import type { Command } from 'commander';
import { loadConfig, type ConfigInput } from '../../server/config.js';
import { browserUrl, resolveLogFormat } from '../../server/logger.js';

/** `emostream serve`: the streaming server (config file, env vars, then flags). */
export function register(program: Command): void {
  program.command('serve')
    .description('Run the real-time emotion recognition server (WebSocket /v1/stream, /v1/subscribe, /healthz, /metrics, /v1/models)')
    .option('-p, --port <n>', 'port (env EMOSTREAM_PORT; default 8080)')
    .option('-H, --host <host>', 'interface to bind (env EMOSTREAM_HOST; default 127.0.0.1: pass 0.0.0.0 to expose it, with auth on, docs/security.md)')
    .option('-c, --config <file>', 'JSON config file (env EMOSTREAM_CONFIG); see docs/configuration.md')
    .option('--transport <name>', 'uws or ws')
    .option('--provider <name>', 'ONNX execution provider: auto, cpu, webgpu, cuda')
    .option('--processes <n>', 'server processes sharing the port (env EMOSTREAM_PROCESSES; default 1): about one per 2-4 cores on a big host (docs/scale-out.md)')
    .option('--event-loops <n>', 'deprecated alias of --processes (env EMOSTREAM_EVENT_LOOPS)')
    .option('--log-format <fmt>', 'auto, json or pretty (env EMOSTREAM_LOG_FORMAT; default auto: pretty on a terminal, JSON otherwise)')
    .action(async (o: { port?: string; host?: string; config?: string; transport?: string; provider?: string; eventLoops?: string; processes?: string; logFormat?: string }) => {
      const overrides: Record<string, Record<string, unknown>> = {};
      if (o.port !== undefined) (overrides.server ??= {}).port = Number(o.port);
      if (o.host !== undefined) (overrides.server ??= {}).host = o.host;
      if (o.transport !== undefined) (overrides.server ??= {}).transport = o.transport;
      if (o.provider !== undefined) (overrides.models ??= {}).executionProvider = o.provider;
      if (o.eventLoops !== undefined) (overrides.server ??= {}).eventLoops = Number(o.eventLoops);
      if (o.processes !== undefined) (overrides.server ??= {}).processes = Number(o.processes);
      if (o.logFormat !== undefined) (overrides.log ??= {}).format = o.logFormat;
      const loaded = loadConfig({ file: o.config, overrides: overrides as ConfigInput });
      // Decided here, where stdout is the terminal (or not): the other server processes log in the same format.
      const format = resolveLogFormat(loaded.log.format);
      const config = { ...loaded, log: { ...loaded.log, format } };
      const { startServer } = await import('../../cluster/processes.js');
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(config);
      } catch (err) {
        // Redis unreachable, the port taken, a process that cannot start: one clear line, exit code 1.
        process.stderr.write(`emostream: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
      if (format === 'pretty' && process.stdout.isTTY) {
        process.stdout.write(`\nemostream listening on ${browserUrl(config.server.host, server.port, config.server.tls.certFile ? 'https' : 'http')} — open it in a browser (Ctrl+C stops)\n\n`);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          server.logger.warn('second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        // SIGTERM (systemd, Kubernetes, a deploy) drains: /healthz 503, no new sessions, running ones may finish.
        const drainMs = signal === 'SIGTERM' ? config.server.drainTimeoutMs : 0;
        server.logger.info({ signal, drainMs }, signal === 'SIGTERM' ? 'SIGTERM: draining, then shutting down' : 'shutting down: flushing final results');
        server.close({ drainMs }).then(() => process.exit(0), (err: unknown) => {
          server.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
