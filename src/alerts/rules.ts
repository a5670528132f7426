import { z } from 'zod';
import { EMOTIONS } from '../protocol/labels.js';

/** What an alert rule watches; the `kind` of the `alert` message it fires (docs/alerts.md defines each). */
export const ALERT_KINDS = ['label', 'perclos', 'no-face', 'no-voice'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

const DAY_MS = 24 * 3600 * 1000;
const common = {
  /** Names the rule in `alert.rule`, in logs and in configuration errors. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  /** How long (session time) the condition must hold before the rule fires; 0 = on the first result where it holds. */
  forMs: z.number().min(0).max(DAY_MS).default(0),
};
const threshold = z.number().gt(0, 'min must be > 0').max(1, 'min must be <= 1');

const ruleSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('label'), label: z.enum(EMOTIONS), min: threshold }).strict(),
  z.object({ ...common, kind: z.literal('perclos'), min: threshold }).strict(),
  z.object({ ...common, kind: z.literal('no-face') }).strict(),
  z.object({ ...common, kind: z.literal('no-voice') }).strict(),
]);

export type AlertRule = z.infer<typeof ruleSchema>;

function describe(raw: unknown, index: number): string {
  const name = (raw as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? `alert rule ${index} "${name}"` : `alert rule ${index} (no valid name)`;
}

/**
 * Checks a list of alert rules and returns them with defaults filled in, or the problems found, each naming the rule
 * (its position and name) and the field, e.g. `alert rule 1 "drowsy": min: min must be <= 1`.
 */
export function checkAlertRules(raw: readonly unknown[]): { rules: AlertRule[]; problems: string[] } {
  const rules: AlertRule[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  raw.forEach((r, i) => {
    const res = ruleSchema.safeParse(r);
    if (!res.success) {
      const kind = (r as { kind?: unknown } | null)?.kind;
      const issues = (typeof kind === 'string' || kind === undefined) && !ALERT_KINDS.includes(kind as AlertKind)
        ? [`kind must be one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify(kind)}`]
        : res.error.issues.map((iss) => `${iss.path.join('.') || '(rule)'}: ${iss.message}`);
      problems.push(`${describe(r, i)}: ${issues.join('; ')}`);
      return;
    }
    if (seen.has(res.data.name)) problems.push(`${describe(r, i)}: the name is used by an earlier rule; names must be unique`);
    seen.add(res.data.name);
    rules.push(res.data);
  });
  return { rules, problems };
}

/** The rules, or an Error listing every problem (for callers outside the config schema). */
export function parseAlertRules(raw: readonly unknown[]): AlertRule[] {
  const { rules, problems } = checkAlertRules(raw);
  if (problems.length > 0) throw new Error(`invalid alert rules: ${problems.join('; ')}`);
  return rules;
}

/** The rule's condition and duration in words, for alert messages and logs. */
export function ruleSummary(rule: AlertRule): string {
  const held = rule.forMs > 0 ? ` for ${rule.forMs / 1000} s` : '';
  switch (rule.kind) {
    case 'label': return `smoothed ${rule.label} >= ${rule.min}${held}`;
    case 'perclos': return `PERCLOS >= ${rule.min}${held}`;
    case 'no-face': return `no face${held}`;
    case 'no-voice': return `no voice${held}`;
  }
}
