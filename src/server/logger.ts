import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { AppConfig } from './config.js';

export type LogFormat = AppConfig['log']['format'];

/**
 * `auto` is pretty on a terminal and JSON otherwise (a pipe, a file, a log collector). Resolved once, in the main
 * thread: event-loop worker threads have no terminal of their own and take the main thread's answer.
 */
export function resolveLogFormat(format: LogFormat, stdoutIsTty = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  if (format === 'auto') return stdoutIsTty ? 'pretty' : 'json';
  return format;
}

/** The server's logger: pino JSON lines, or the same records made readable by pino-pretty. */
export function createLogger(config: Readonly<AppConfig>, base: Record<string, unknown>): Logger {
  const opts = { level: config.log.level, base };
  if (resolveLogFormat(config.log.format) === 'json') return pino(opts);
  // sync: a line logged just before process.exit (a second Ctrl+C) is still written.
  return pino(opts, PinoPretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' }));
}

/** The address a person on this machine opens in a browser (a wildcard bind is reachable on loopback). */
export function browserUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}/`;
}
