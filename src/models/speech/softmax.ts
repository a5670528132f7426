/** Row-wise softmax of logits [rows, cols] (max-subtracted, so large logits stay finite). */
export function softmaxRows(logits: ArrayLike<number>, rows: number, cols: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const p = new Float32Array(cols);
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, logits[r * cols + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) { p[c] = Math.exp(logits[r * cols + c] - max); sum += p[c]; }
    for (let c = 0; c < cols; c++) p[c] /= sum;
    out.push(p);
  }
  return out;
}
