/**
 * Per-column min-max normalisation (scikit-learn's MinMaxScaler): x' = (x - min) / (max - min), fitted on training
 * rows only. A constant column keeps scale 1 (x' = x - min) as in scikit-learn. Values outside the training range
 * are not clipped, so a test row may fall outside [0, 1].
 */
export interface MinMaxParams {
  min: number[];
  max: number[];
}

export function fitMinMax(rows: ArrayLike<number>[]): MinMaxParams {
  if (rows.length === 0) throw new Error('fitMinMax: no rows');
  const d = rows[0].length;
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`fitMinMax: row ${i} has ${r.length} values, expected ${d}`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(r[j])) throw new Error(`fitMinMax: row ${i} column ${j} is not finite`);
      if (r[j] < min[j]) min[j] = r[j];
      if (r[j] > max[j]) max[j] = r[j];
    }
  });
  return { min, max };
}

/** Applies fitted params to one row (any length-d array-like), writing into `out` when given. */
export function applyMinMax(p: MinMaxParams, row: ArrayLike<number>, out = new Float32Array(p.min.length)): Float32Array {
  if (row.length !== p.min.length) throw new Error(`applyMinMax: ${row.length} values, expected ${p.min.length}`);
  for (let j = 0; j < row.length; j++) {
    const range = p.max[j] - p.min[j];
    out[j] = (row[j] - p.min[j]) / (range > 0 ? range : 1);
  }
  return out;
}

export function validateMinMax(p: unknown, expectedLength: number, where: string): MinMaxParams {
  const q = p as Partial<MinMaxParams> | null;
  if (!q || !Array.isArray(q.min) || !Array.isArray(q.max)) throw new Error(`${where}: expected {min: number[], max: number[]}`);
  if (q.min.length !== expectedLength || q.max.length !== expectedLength) {
    throw new Error(`${where}: min/max have ${q.min.length}/${q.max.length} values, expected ${expectedLength}`);
  }
  if ([...q.min, ...q.max].some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${where}: non-finite min/max`);
  return { min: q.min, max: q.max };
}
