import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Fusion, FusionInputs, ModelStatus } from '../../contracts/models.js';
import { EMOTIONS, NUM_EMOTIONS } from '../../protocol/labels.js';
import { fusionHeadProbs, validateHead, type FusionHeadParams } from './head.js';

export const DEFAULT_FUSION_DIR = 'models/fusion';
export const FUSION_FORMAT = 'emostream-fusion/1';
const NAME = 'late-fusion';
const MODALITIES = ['speech', 'face', 'expression'] as const;
type FusionModality = (typeof MODALITIES)[number];

/** `models/fusion/fusion.json`. */
export interface FusionFile {
  format: typeof FUSION_FORMAT;
  labels: string[];
  heads: FusionHeadParams[];
  [extra: string]: unknown;
}

export function validateFusionFile(raw: unknown, path: string): FusionFile {
  const f = raw as Partial<FusionFile> | null;
  if (!f || f.format !== FUSION_FORMAT) throw new Error(`${path}: format must be '${FUSION_FORMAT}'`);
  if (!Array.isArray(f.labels) || f.labels.join(',') !== EMOTIONS.join(',')) throw new Error(`${path}: labels must be ${EMOTIONS.join(',')} in that order`);
  if (!Array.isArray(f.heads) || f.heads.length === 0) throw new Error(`${path}: no heads`);
  const heads = f.heads.map((h, i) => validateHead(h, NUM_EMOTIONS, `${path}: heads[${i}]`));
  for (const h of heads) {
    const bad = h.inputs.find((m) => !(MODALITIES as readonly string[]).includes(m));
    if (bad) throw new Error(`${path}: head '${h.name}' has unknown input '${bad}' (expected ${MODALITIES.join(', ')})`);
  }
  return { ...(f as FusionFile), heads };
}

const key = (mods: readonly string[]): string => [...mods].sort().join('+');

/**
 * Loads the fusion heads. Never throws: a missing or corrupt file gives a Fusion whose status() is unavailable with
 * the reason and whose fuse() falls back to the mean of the present posteriors (head 'fallback-mean', uncalibrated).
 */
export async function loadFusion(opts: { dir?: string } = {}): Promise<Fusion> {
  const dir = resolve(opts.dir ?? DEFAULT_FUSION_DIR);
  const path = join(dir, 'fusion.json');
  try {
    if (!existsSync(path)) throw new Error(`${path}: fusion heads not found (run: emostream train fusion)`);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    return createFusion(validateFusionFile(raw, path).heads, path);
  } catch (err) {
    return createFusion([], path, err instanceof Error ? err.message : String(err));
  }
}

/** A Fusion over validated heads (also used by tests and the fusion trainer's parity check). */
export function createFusion(heads: FusionHeadParams[], path: string, error?: string): Fusion {
  const byKey = new Map(heads.map((h) => [key(h.inputs), h]));
  let invalidInputs = 0;
  return {
    status: (): ModelStatus => ({
      name: NAME, modality: 'fusion', available: error === undefined, error, path, labels: EMOTIONS,
      details: {
        heads: heads.map((h) => ({ name: h.name, inputs: h.inputs })),
        invalidInputsIgnored: invalidInputs,
        contract: 'fuse({speech, face, expression}): each an 8-value posterior in EMOTIONS order or null; picks the head for the present subset',
      },
    }),
    fuse(inputs: FusionInputs): { probs: Float32Array; head: string } {
      const present = new Map<FusionModality, Float32Array>();
      for (const m of MODALITIES) {
        const v = inputs[m];
        if (v === null || v === undefined) continue;
        if (v.length !== NUM_EMOTIONS || !v.every(Number.isFinite)) { invalidInputs++; continue; }
        present.set(m, v);
      }
      if (present.size === 0) return { probs: new Float32Array(NUM_EMOTIONS).fill(1 / NUM_EMOTIONS), head: 'none' };
      // The head for exactly the present subset; else the largest head whose inputs are all present
      // (e.g. no head takes `expression` yet: it is ignored).
      let head = byKey.get(key([...present.keys()]));
      if (!head) {
        for (const h of heads) {
          if (h.inputs.every((m) => present.has(m as FusionModality)) && (!head || h.inputs.length > head.inputs.length)) head = h;
        }
      }
      if (head) {
        const x = new Float32Array(head.inputs.length * NUM_EMOTIONS);
        head.inputs.forEach((m, i) => x.set(present.get(m as FusionModality)!, i * NUM_EMOTIONS));
        return { probs: fusionHeadProbs(head, x), head: head.name };
      }
      const probs = new Float32Array(NUM_EMOTIONS);
      for (const v of present.values()) for (let k = 0; k < NUM_EMOTIONS; k++) probs[k] += v[k] / present.size;
      return { probs, head: 'fallback-mean' };
    },
  };
}
