import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelStatus } from '../contracts/models.js';

/** Files whose bytes are the model: its manifest and weights (not reports or model cards). */
const MODEL_FILE = /\.(onnx|json|bin)$/;
const SKIP = /^(report|metrics|eval)/;

/**
 * A version for each loaded model: the first 12 hex digits of SHA-256 over its files (the file, or the .onnx/.json/.bin
 * files of its folder in name order). Models carry no version number; this names exactly the bytes that ran, so a
 * stored session says which model produced its results even after the model is retrained. Computed once at start.
 */
export function modelVersions(status: readonly ModelStatus[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of status) {
    if (!s.available || !s.path) continue;
    try {
      const hash = createHash('sha256');
      const st = statSync(s.path);
      const files = st.isDirectory()
        ? readdirSync(s.path).filter((f) => MODEL_FILE.test(f) && !SKIP.test(f)).sort().map((f) => join(s.path!, f))
        : [s.path];
      if (files.length === 0) continue;
      for (const f of files) hash.update(readFileSync(f));
      out[s.name] = hash.digest('hex').slice(0, 12);
    } catch {
      // A model whose files cannot be read again is stored without a version.
    }
  }
  return out;
}
