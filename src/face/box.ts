/** Axis-aligned box in pixels: top-left (x0, y0), bottom-right (x1, y1). */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export const boxWidth = (b: Box): number => b.x1 - b.x0;
export const boxHeight = (b: Box): number => b.y1 - b.y0;
export const boxArea = (b: Box): number => Math.max(0, boxWidth(b)) * Math.max(0, boxHeight(b));
export const boxCenter = (b: Box): [number, number] => [(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2];

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Square box of side max(w, h) * factor around the same centre (the crop FaceMesh expects). */
export function squareAround(b: Box, factor: number): Box {
  const [cx, cy] = boxCenter(b);
  const half = (Math.max(boxWidth(b), boxHeight(b)) * factor) / 2;
  return { x0: cx - half, y0: cy - half, x1: cx + half, y1: cy + half };
}

/** Tight box around 2-D points given as a flat [x, y, z, x, y, z, ...] array. */
export function boxOfPoints(xyz: Float32Array, pointCount: number): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < pointCount; i++) {
    const x = xyz[i * 3], y = xyz[i * 3 + 1];
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return { x0, y0, x1, y1 };
}

/** Greedy non-maximum suppression; returns indices of kept boxes, best first. */
export function nonMaxSuppression(boxes: Box[], scores: number[], iouThreshold: number, maxKeep: number): number[] {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxKeep) break;
    if (kept.every((k) => iou(boxes[k], boxes[i]) <= iouThreshold)) kept.push(i);
  }
  return kept;
}
