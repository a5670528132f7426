import { G } from './au-geometry.js';

/**
 * Each OpenFace AU as a geometric quantity: a function of this frame's measurements `f` and the person's resting
 * measurements `b` (both GEOMETRY_FEATURES order, IOD units), returning a non-negative raw activation. The linear map
 * from raw activation to OpenFace's 0-5 intensity scale lives in au-scale.json (fitted by fit-au-scale.ts).
 * docs/aus.md documents every definition.
 */
export interface AuDefinition {
  /** OpenFace column stem, e.g. 'AU01'. */
  au: string;
  facs: string;
  raw(f: Float32Array, b: Float32Array): number;
}

const pos = (v: number): number => (v > 0 ? v : 0);
const d = (f: Float32Array, b: Float32Array, k: number): number => f[k] - b[k];

export const AU_DEFINITIONS: readonly AuDefinition[] = [
  { au: 'AU01', facs: 'Inner brow raiser', raw: (f, b) => pos(d(f, b, G.innerBrowHeight)) },
  { au: 'AU02', facs: 'Outer brow raiser', raw: (f, b) => pos(d(f, b, G.outerBrowHeight)) },
  {
    au: 'AU04',
    facs: 'Brow lowerer',
    raw: (f, b) => pos(-(d(f, b, G.innerBrowHeight) + d(f, b, G.midBrowHeight)) / 2) + 0.5 * pos(-d(f, b, G.browGap)),
  },
  { au: 'AU05', facs: 'Upper lid raiser', raw: (f, b) => pos(d(f, b, G.upperLidHeight)) },
  { au: 'AU06', facs: 'Cheek raiser', raw: (f, b) => pos(-d(f, b, G.cheekHeight)) + 0.5 * pos(-d(f, b, G.lowerLidHeight)) },
  { au: 'AU07', facs: 'Lid tightener', raw: (f, b) => pos(-d(f, b, G.lowerLidHeight)) + 0.25 * pos(-d(f, b, G.eyeAperture)) },
  { au: 'AU09', facs: 'Nose wrinkler', raw: (f, b) => pos(-d(f, b, G.noseWingHeight)) },
  { au: 'AU10', facs: 'Upper lip raiser', raw: (f, b) => pos(-d(f, b, G.upperLipToNose)) },
  { au: 'AU12', facs: 'Lip corner puller', raw: (f, b) => pos(d(f, b, G.cornerElevation)) + 0.5 * pos(d(f, b, G.mouthWidth)) },
  { au: 'AU14', facs: 'Dimpler', raw: (f, b) => pos(d(f, b, G.cornerDepth)) },
  { au: 'AU15', facs: 'Lip corner depressor', raw: (f, b) => pos(-d(f, b, G.cornerElevation)) },
  { au: 'AU17', facs: 'Chin raiser', raw: (f, b) => pos(-d(f, b, G.chinToLowerLip)) },
  {
    au: 'AU20',
    facs: 'Lip stretcher',
    // Widening without the corners going up (that is AU12).
    raw: (f, b) => pos(d(f, b, G.mouthWidth) - 2 * pos(d(f, b, G.cornerElevation))),
  },
  {
    au: 'AU23',
    facs: 'Lip tightener',
    // Thinner red lips while the lips stay closed (parting also thins them).
    raw: (f, b) => (f[G.lipGap] - b[G.lipGap] < 0.05 ? pos(-d(f, b, G.lipThickness)) : 0),
  },
  { au: 'AU25', facs: 'Lips part', raw: (f, b) => pos(d(f, b, G.lipGap)) },
  { au: 'AU26', facs: 'Jaw drop', raw: (f, b) => pos(d(f, b, G.jawDrop)) },
  {
    au: 'AU45',
    facs: 'Blink',
    // Relative closure: 0 at the resting aperture, 1 when the lids meet.
    raw: (f, b) => (b[G.eyeAperture] > 0 ? pos(-d(f, b, G.eyeAperture) / b[G.eyeAperture]) : 0),
  },
];

/** AU28 (lip suck) has only a presence column: the red lips nearly vanish (relative thinning, lips closed). */
export const AU28_DEFINITION: AuDefinition = {
  au: 'AU28',
  facs: 'Lip suck',
  raw: (f, b) => (b[G.lipThickness] > 0 && f[G.lipGap] - b[G.lipGap] < 0.05 ? pos(-d(f, b, G.lipThickness) / b[G.lipThickness]) : 0),
};
