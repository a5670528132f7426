import { z } from 'zod';
import { checkAlertRules } from './rules.js';

/** Why a webhook URL is refused at start, or null when it is usable. */
export function webhookUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `webhook URL ${JSON.stringify(raw)} is not a valid absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `webhook URL ${JSON.stringify(raw)} must be http: or https:, not ${url.protocol}`;
  if (url.hash) return `webhook URL ${JSON.stringify(raw)} must not have a #fragment`;
  return null;
}

/** Shortest webhook secret accepted: 16 bytes of text keep HMAC-SHA256 out of guessing range. */
export const MIN_SECRET_CHARS = 16;

/**
 * The `alerts` section of the server configuration (src/server/config.ts; docs/alerts.md). Rules are checked here, so
 * a bad rule stops the server at start with a message naming it.
 */
export const alertsConfigSchema = z.object({
  rules: z.array(z.unknown()).max(256).transform((raw, ctx) => {
    const { rules, problems } = checkAlertRules(raw);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return rules;
  }).prefault([]).meta({ docDefault: '[]' }).describe('alert rules (`label`, `perclos`, `no-face`, `no-voice`) evaluated on every result; a bad rule stops the start with its name. See [alerts.md](alerts.md)'),
  webhooks: z.object({
    /** Every alert is POSTed to each of these. */
    urls: z.array(z.string()).max(32).superRefine((urls, ctx) => {
      urls.forEach((u, i) => {
        const problem = webhookUrlProblem(u);
        if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem });
      });
    }).default([]).describe('URLs every alert is POSTed to, signed; malformed ones stop the start ([alerts.md](alerts.md))'),
    /** HMAC-SHA256 key of `X-Emostream-Signature`; required when there are URLs. */
    secret: z.string().default('').meta({ docDefault: '(none)' }).describe('HMAC-SHA256 key of `X-Emostream-Signature`, >= 16 characters, required with URLs'),
    /** One POST, connection included; a target slower than this counts as a failed attempt. */
    timeoutMs: z.number().int().min(100).max(120_000).default(5000).describe('time limit of one POST, connection included; a slower target counts as a failed attempt'),
    /** Tries per alert and URL (the first included) before it goes to the dead letters. */
    maxAttempts: z.number().int().min(1).max(20).default(5).describe('tries per alert and URL (the first included) before a dead letter'),
    /** Retry n waits a random time in [0, min(backoffMaxMs, backoffBaseMs * 2^(n-1))] (exponential, full jitter). */
    backoffBaseMs: z.number().int().min(1).max(600_000).default(500).describe('exponential backoff with full jitter between tries: retry n waits a random time up to min(backoffMaxMs, backoffBaseMs x 2^(n-1))'),
    backoffMaxMs: z.number().int().min(1).max(3_600_000).default(30_000).describe('longest wait between tries'),
    /** Deliveries waiting, in flight or between retries, over all URLs; a new one beyond this is dropped (counted). */
    maxQueue: z.number().int().min(1).max(1_000_000).default(1000).describe('deliveries queued, in flight or between retries (all URLs); beyond, dropped and counted'),
    /** POSTs in flight at once, over all URLs. */
    maxConcurrent: z.number().int().min(1).max(256).default(4).describe('POSTs in flight at once (all URLs)'),
  }).strict().superRefine((w, ctx) => {
    if (w.urls.length > 0 && w.secret.length < MIN_SECRET_CHARS) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: `a webhook secret of at least ${MIN_SECRET_CHARS} characters is required with webhook URLs (EMOSTREAM_WEBHOOK_SECRET)` });
    }
  }).prefault({}),
}).strict();

export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
export type WebhookConfig = AlertsConfig['webhooks'];
