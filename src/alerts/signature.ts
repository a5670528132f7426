import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-emostream-signature';
export const TIMESTAMP_HEADER = 'x-emostream-timestamp';
export const DELIVERY_HEADER = 'x-emostream-delivery';

/** `sha256=<hex>`: HMAC-SHA256 of the raw body (the exact bytes sent) with the shared secret. */
export function signBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export interface VerifyOptions {
  /** Oldest accepted `timestamp` relative to now, in seconds (default 300). */
  toleranceS?: number;
  nowS?: number;
}

/**
 * What a receiver does (docs/alerts.md has the same in a few lines of Node and Python): the signature must match the
 * raw body in constant time, the body's `timestamp` (covered by the signature) must equal the timestamp header and be
 * recent. Returns null when the delivery is genuine, else why not.
 */
export function verifyDelivery(secret: string, rawBody: string | Buffer, signature: string | undefined, timestamp: string | undefined, opts: VerifyOptions = {}): string | null {
  if (!signature) return 'no signature header';
  const expected = Buffer.from(signBody(secret, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature does not match the body';
  let body: { timestamp?: unknown };
  try {
    body = JSON.parse(rawBody.toString()) as { timestamp?: unknown };
  } catch {
    return 'body is not JSON';
  }
  if (typeof body.timestamp !== 'number' || String(body.timestamp) !== timestamp) return 'timestamp header does not match the signed body';
  const nowS = opts.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - body.timestamp) > (opts.toleranceS ?? 300)) return 'timestamp too old (or in the future): possible replay';
  return null;
}
