/**
 * Polls `cond` (sync or async) until it holds. The limit only turns a hang into a failure with a message; it is
 * generous on purpose and measures nothing, so a busy machine cannot fail a test through it.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
