import { EMOTIONS } from '../protocol/labels.js';
import type { AlertMessage, EmotionResult } from '../protocol/v1/messages.js';
import { ruleSummary, type AlertRule } from './rules.js';

/**
 * What the evaluator reads from a result. `voice` (voice activity) and per-face driver state in the `faceTracks`
 * array (protocol 1.1; an array in `faces` is read the same way) are read when a result carries them; a result without
 * them leaves those rules "unknown" (they never fire on absence).
 */
export type AlertInput = Pick<EmotionResult, 'sessionId' | 'hop' | 'windowStartUs' | 'windowEndUs' | 'smoothed' | 'aus'> & {
  faces?: unknown;
  faceTracks?: unknown;
  voice?: unknown;
};

/** The per-face array of a result: `faceTracks`, or an array in `faces`; null when the result has none. */
function tracksOf(r: AlertInput): unknown[] | null {
  if (Array.isArray(r.faceTracks)) return r.faceTracks;
  return Array.isArray(r.faces) ? r.faces : null;
}

/** The window's analysed video found no face: an empty per-face array, or `faces: {count: 0}`. */
function noFaceSeen(r: AlertInput): boolean {
  const tracks = tracksOf(r);
  if (tracks) return tracks.length === 0;
  return finite((r.faces as { count?: unknown } | null | undefined)?.count) === 0;
}

type Condition = { holds: false } | { holds: null } | { holds: true; value: number; sinceUs: number };
const FALSE: Condition = { holds: false };
const UNKNOWN: Condition = { holds: null };

interface RuleState {
  /** Session time from which the condition has held without a break; null when it does not hold now. */
  sinceUs: number | null;
  /** Fired during the current stretch of the condition; re-armed when the condition is false again. */
  fired: boolean;
}

const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** PERCLOS of one face of a `faces` array: `state.perclos` (driver state) or `perclos`; null when it has none. */
function perclosOf(face: unknown): number | null {
  if (!face || typeof face !== 'object') return null;
  const f = face as { perclos?: unknown; state?: { perclos?: unknown } | null };
  return finite(f.state?.perclos) ?? finite(f.perclos);
}

function boxArea(face: unknown): number {
  const box = (face as { box?: { width?: unknown; height?: unknown } } | null)?.box;
  return (finite(box?.width) ?? 0) * (finite(box?.height) ?? 0);
}

/**
 * The PERCLOS the rule watches: that of the largest face (by box area, the first on a tie or without boxes) among
 * those that report one, as the AU window follows the largest face. Null when no face reports PERCLOS.
 */
export function sessionPerclos(faces: unknown): number | null {
  if (!Array.isArray(faces)) return null;
  let best: number | null = null;
  let bestArea = -1;
  for (const face of faces) {
    const p = perclosOf(face);
    const area = boxArea(face);
    if (p !== null && area > bestArea) {
      best = p;
      bestArea = area;
    }
  }
  return best;
}

/**
 * One session's alert rules as a pure stage: each result in, the alerts it fires out. A rule fires once when its
 * condition has held for `forMs` of session time (window ends, so dropped hops and machine load do not change it),
 * stays quiet while the condition goes on, and re-arms when a result shows the condition false. A result on which
 * the condition is unknown (its input absent) breaks the stretch without re-arming.
 */
export class AlertEvaluator {
  private readonly states: RuleState[];
  /** A face has been seen in this session: from then on a window without AU frames means no face. */
  private sawFace = false;

  constructor(private readonly rules: readonly AlertRule[]) {
    this.states = rules.map(() => ({ sinceUs: null, fired: false }));
  }

  evaluate(result: AlertInput): AlertMessage[] {
    const tracks = tracksOf(result);
    const faceNow = result.aus !== null || (tracks !== null && tracks.length > 0);
    const fired: AlertMessage[] = [];
    this.rules.forEach((rule, i) => {
      const c = this.condition(rule, result, faceNow);
      const st = this.states[i];
      if (c.holds === true) {
        st.sinceUs ??= c.sinceUs;
        const heldMs = (result.windowEndUs - st.sinceUs) / 1000;
        if (!st.fired && heldMs >= rule.forMs) {
          st.fired = true;
          fired.push(this.alert(rule, result, c.value, heldMs));
        }
      } else {
        st.sinceUs = null;
        if (c.holds === false) st.fired = false;
      }
    });
    if (faceNow) this.sawFace = true;
    return fired;
  }

  private condition(rule: AlertRule, r: AlertInput, faceNow: boolean): Condition {
    switch (rule.kind) {
      case 'label': {
        if (!r.smoothed) return UNKNOWN;
        const p = r.smoothed.probs[EMOTIONS.indexOf(rule.label)];
        return p >= rule.min ? { holds: true, value: p, sinceUs: r.windowEndUs } : FALSE;
      }
      case 'perclos': {
        const p = sessionPerclos(tracksOf(r));
        if (p === null) return UNKNOWN;
        return p >= rule.min ? { holds: true, value: p, sinceUs: r.windowEndUs } : FALSE;
      }
      case 'no-face': {
        if (faceNow) return FALSE;
        // Absence is known from video analysed with nobody there, or once the session has shown
        // a face; before that a session may simply have no camera.
        const known = noFaceSeen(r) || this.sawFace;
        // The whole window had no face: it has been absent since the window's start.
        return known ? { holds: true, value: 0, sinceUs: r.windowStartUs } : UNKNOWN;
      }
      case 'no-voice': {
        const active = (r.voice as { active?: unknown } | null | undefined)?.active;
        if (typeof active !== 'boolean') return UNKNOWN;
        return active ? FALSE : { holds: true, value: 0, sinceUs: r.windowStartUs };
      }
    }
  }

  private alert(rule: AlertRule, r: AlertInput, measured: number, heldMs: number): AlertMessage {
    const heldS = Math.round(heldMs / 100) / 10;
    const absence = rule.kind === 'no-face' || rule.kind === 'no-voice';
    const value = absence ? heldS : Math.round(measured * 1e4) / 1e4;
    const what = rule.kind === 'label' ? `smoothed ${rule.label} at ${value}` : rule.kind === 'perclos' ? `PERCLOS at ${value}` : rule.kind === 'no-face' ? 'no face' : 'no voice';
    return {
      type: 'alert', sessionId: r.sessionId, rule: rule.name, hop: r.hop, atUs: r.windowEndUs, kind: rule.kind, value,
      message: `${what} for ${heldS} s (rule ${rule.name}: ${ruleSummary(rule)})`,
    };
  }
}
