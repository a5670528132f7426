import { readFileSync } from 'node:fs';
import { AU_INTENSITY_COLUMNS, AU_PRESENCE_COLUMNS } from '../protocol/labels.js';
import { GEOMETRY_FEATURES, GEOMETRY_LENGTH } from './au-geometry.js';

/**
 * The fitted constants of the AU estimator (au-scale.json, written by fit-au-scale.ts): the population's resting
 * geometry (the calibration prior) and, per OpenFace column, the linear map raw activation -> intensity and the
 * presence threshold.
 */
export interface AuScale {
  prior: Float32Array;
  /** AU_INTENSITY_COLUMNS order. */
  offset: Float32Array;
  gain: Float32Array;
  /** AU_PRESENCE_COLUMNS order: presence when the intensity (AU28: the raw lip-suck activation) reaches it. */
  threshold: Float32Array;
  source: string;
}

interface AuScaleJson {
  features: string[];
  prior: number[];
  intensity: Record<string, { offset: number; gain: number }>;
  presence: Record<string, { threshold: number }>;
  source: string;
}

export const AU_SCALE_PATH = new URL('./au-scale.json', import.meta.url);

export function parseAuScale(json: AuScaleJson): AuScale {
  if (json.features.join(',') !== GEOMETRY_FEATURES.join(',')) throw new Error('au-scale.json was fitted for other geometry features; re-run fit-au-scale');
  if (json.prior.length !== GEOMETRY_LENGTH) throw new Error('au-scale.json prior has the wrong length');
  const get = <T>(rec: Record<string, T>, col: string): T => {
    const v = rec[col];
    if (v === undefined) throw new Error(`au-scale.json lacks ${col}`);
    return v;
  };
  return {
    prior: Float32Array.from(json.prior),
    offset: Float32Array.from(AU_INTENSITY_COLUMNS.map((c) => get(json.intensity, c).offset)),
    gain: Float32Array.from(AU_INTENSITY_COLUMNS.map((c) => get(json.intensity, c).gain)),
    threshold: Float32Array.from(AU_PRESENCE_COLUMNS.map((c) => get(json.presence, c).threshold)),
    source: json.source,
  };
}

export function loadAuScale(path: URL | string = AU_SCALE_PATH): AuScale {
  return parseAuScale(JSON.parse(readFileSync(path, 'utf8')) as AuScaleJson);
}
