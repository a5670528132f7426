/**
 * Pose-normalised facial geometry from MediaPipe FaceMesh's 468 landmarks: the raw measurements the AU estimator
 * turns into OpenFace-style Action Units. Every measurement is in units of the inter-ocular distance (IOD, between
 * the eye centres) inside a head-fixed 3-D frame (x: subject's right eye -> left eye, y: forehead -> chin, z: into the
 * face), so head roll, yaw, pitch and distance to the camera cancel to first order. Indices: MediaPipe canonical mesh.
 */
export const LM = {
  // Eyes: outer and inner corners, three upper-lid and three lower-lid points (subject's right eye = image left).
  rEyeOuter: 33, rEyeInner: 133, rUpperLid: [158, 159, 160], rLowerLid: [144, 145, 153],
  lEyeOuter: 263, lEyeInner: 362, lUpperLid: [385, 386, 387], lLowerLid: [373, 374, 380],
  // Brows: (upper contour, lower contour) pairs at inner, middle and outer thirds.
  rBrowInner: [107, 55], rBrowMid: [105, 52], rBrowOuter: [70, 46],
  lBrowInner: [336, 285], lBrowMid: [334, 282], lBrowOuter: [300, 276],
  // Cheeks below the eyes (infraorbital / malar), nose wings, nose base.
  rCheek: [50, 118, 205], lCheek: [280, 347, 425],
  rNoseWing: [64, 98], lNoseWing: [294, 327], noseBase: 2, foreheadTop: 10,
  // Mouth: corners, outer and inner lip midpoints, chin.
  rMouthCorner: 61, lMouthCorner: 291, upperLipTop: 0, upperLipInner: 13, lowerLipInner: 14, lowerLipBottom: 17, chin: 152,
} as const;

/** Names of the geometric measurements, in the order of the Float32Array computeGeometry returns. */
export const GEOMETRY_FEATURES = [
  'innerBrowHeight', // brow above the eye line at the inner third (AU01 up, AU04 down)
  'outerBrowHeight', // ... at the outer third (AU02)
  'midBrowHeight', // ... at the middle third (AU04)
  'browGap', // distance between the inner brow heads (AU04 draws them together)
  'upperLidHeight', // upper lid above the eye-corner line (AU05 up, AU45/AU07 down)
  'lowerLidHeight', // lower lid below the eye-corner line (AU06/AU07 raise it: smaller)
  'eyeAperture', // lid-to-lid distance / eye width (AU45 closes it)
  'cheekHeight', // malar points below the eye line (AU06 raises: smaller)
  'noseWingHeight', // nose wings below the eye line (AU09/AU10 raise: smaller)
  'upperLipToNose', // nose base to upper-lip top (AU10 shortens)
  'cornerElevation', // mouth corners above the upper-lip top (AU12 up, AU15 down)
  'mouthWidth', // corner to corner (AU12, AU20 widen)
  'cornerDepth', // corners behind the lip midline (AU14 pulls them in)
  'lipThickness', // upper + lower red-lip heights (AU23 thins, AU28 hides)
  'lipGap', // inner upper lip to inner lower lip (AU25)
  'jawDrop', // chin below the eye line (AU26)
  'chinToLowerLip', // lower-lip bottom to chin (AU17 shortens)
] as const;
export type GeometryFeature = (typeof GEOMETRY_FEATURES)[number];
export const GEOMETRY_LENGTH = GEOMETRY_FEATURES.length;
export const G = Object.fromEntries(GEOMETRY_FEATURES.map((n, i) => [n, i])) as Record<GeometryFeature, number>;

export interface HeadPose {
  /** Radians; from the head-fixed frame's axes (rotation of the face relative to the camera). */
  yaw: number;
  pitch: number;
  roll: number;
  /** Inter-ocular distance in pixels. */
  iodPx: number;
}

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];
const norm = (a: V3): number => Math.hypot(a[0], a[1], a[2]);
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/**
 * The head-fixed frame and all measurements. Returns null when the landmarks are degenerate (IOD < 2 px).
 * `mesh` is 468 x (x, y, z) in pixels, FaceMesh's z on the x scale.
 */
export function computeGeometry(mesh: Float32Array): { features: Float32Array; pose: HeadPose } | null {
  const p = (i: number): V3 => [mesh[i * 3], mesh[i * 3 + 1], mesh[i * 3 + 2]];
  const mean = (idx: readonly number[]): V3 => {
    const s: V3 = [0, 0, 0];
    for (const i of idx) {
      s[0] += mesh[i * 3];
      s[1] += mesh[i * 3 + 1];
      s[2] += mesh[i * 3 + 2];
    }
    return scale(s, 1 / idx.length);
  };
  const rEye = mean([LM.rEyeOuter, LM.rEyeInner]);
  const lEye = mean([LM.lEyeOuter, LM.lEyeInner]);
  const across = sub(lEye, rEye);
  const iod = norm(across);
  if (!(iod >= 2)) return null;
  const origin = scale([rEye[0] + lEye[0], rEye[1] + lEye[1], rEye[2] + lEye[2]], 0.5);
  const ex = scale(across, 1 / iod);
  // y: from the forehead top (rigid, unaffected by any AU) down through the eye midpoint, orthogonalised to x.
  const down = sub(origin, p(LM.foreheadTop));
  const downOrtho = sub(down, scale(ex, dot(down, ex)));
  const ey = scale(downOrtho, 1 / (norm(downOrtho) || 1));
  const ez = cross(ex, ey);
  // Local coordinates in IOD units.
  const L = (v: V3): V3 => {
    const d = sub(v, origin);
    return [dot(d, ex) / iod, dot(d, ey) / iod, dot(d, ez) / iod];
  };
  const Lp = (i: number): V3 => L(p(i));
  const Lm = (idx: readonly number[]): V3 => L(mean(idx));
  const avg = (a: number, b: number): number => (a + b) / 2;
  const dist = (a: V3, b: V3): number => norm(sub(a, b));

  const rOuter = Lp(LM.rEyeOuter), rInner = Lp(LM.rEyeInner), lOuter = Lp(LM.lEyeOuter), lInner = Lp(LM.lEyeInner);
  const rCornerY = avg(rOuter[1], rInner[1]);
  const lCornerY = avg(lOuter[1], lInner[1]);
  const rUp = Lm(LM.rUpperLid), rLo = Lm(LM.rLowerLid), lUp = Lm(LM.lUpperLid), lLo = Lm(LM.lLowerLid);
  const rWidth = dist(rOuter, rInner), lWidth = dist(lOuter, lInner);
  const rCorner = Lp(LM.rMouthCorner), lCorner = Lp(LM.lMouthCorner);
  const upperTop = Lp(LM.upperLipTop), upperIn = Lp(LM.upperLipInner), lowerIn = Lp(LM.lowerLipInner), lowerBottom = Lp(LM.lowerLipBottom);
  const chin = Lp(LM.chin);
  const lipMidZ = avg(upperTop[2], lowerBottom[2]);

  const f = new Float32Array(GEOMETRY_LENGTH);
  f[G.innerBrowHeight] = -avg(Lm(LM.rBrowInner)[1], Lm(LM.lBrowInner)[1]);
  f[G.outerBrowHeight] = -avg(Lm(LM.rBrowOuter)[1], Lm(LM.lBrowOuter)[1]);
  f[G.midBrowHeight] = -avg(Lm(LM.rBrowMid)[1], Lm(LM.lBrowMid)[1]);
  f[G.browGap] = Math.abs(Lm(LM.lBrowInner)[0] - Lm(LM.rBrowInner)[0]);
  f[G.upperLidHeight] = avg(rCornerY - rUp[1], lCornerY - lUp[1]);
  f[G.lowerLidHeight] = avg(rLo[1] - rCornerY, lLo[1] - lCornerY);
  f[G.eyeAperture] = avg(dist(rUp, rLo) / rWidth, dist(lUp, lLo) / lWidth);
  f[G.cheekHeight] = avg(Lm(LM.rCheek)[1], Lm(LM.lCheek)[1]);
  f[G.noseWingHeight] = avg(Lm(LM.rNoseWing)[1], Lm(LM.lNoseWing)[1]);
  f[G.upperLipToNose] = upperTop[1] - Lp(LM.noseBase)[1];
  f[G.cornerElevation] = upperTop[1] - avg(rCorner[1], lCorner[1]);
  f[G.mouthWidth] = dist(rCorner, lCorner);
  f[G.cornerDepth] = avg(rCorner[2], lCorner[2]) - lipMidZ;
  f[G.lipThickness] = Math.max(0, upperIn[1] - upperTop[1]) + Math.max(0, lowerBottom[1] - lowerIn[1]);
  f[G.lipGap] = Math.max(0, lowerIn[1] - upperIn[1]);
  f[G.jawDrop] = chin[1];
  f[G.chinToLowerLip] = chin[1] - lowerBottom[1];

  // Head pose from the frame's axes (camera: x right, y down, z away).
  const pose: HeadPose = {
    yaw: Math.asin(Math.max(-1, Math.min(1, ez[0]))),
    pitch: Math.asin(Math.max(-1, Math.min(1, -ez[1]))),
    roll: Math.atan2(ex[1], ex[0]),
    iodPx: iod,
  };
  return { features: f, pose };
}
