import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema, ENV_VARS } from './config.js';

/**
 * docs/configuration.md's key table, generated from the one config schema (src/server/config.ts): every leaf key with
 * its default, environment variable and the description the schema gives it (zod `.describe`). A key whose default
 * is not a fixed value (it depends on the host or on another key) says so with `.meta({ docDefault })`.
 * `npm run docs:config` rewrites the table between the markers; a unit test fails when the doc and the schema differ.
 */

export const TABLE_START = '<!-- config-table:start: generated from src/server/config.ts by `npm run docs:config`; edit the schema, not this table -->';
export const TABLE_END = '<!-- config-table:end -->';

export interface ConfigKeyDoc {
  path: string;
  defaultText: string;
  /** Whether defaultText shows the schema's own default value (not a `docDefault` sentence, not '(none)'). */
  defaultFromSchema: boolean;
  env: string;
  description: string;
}

interface Meta { description?: string; docDefault?: string }
type AnySchema = z.core.$ZodType;

/** Wrappers whose inner schema is the key's value type (their own metadata and default still count). */
function inner(s: AnySchema): AnySchema | null {
  const def = s._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
  if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) return def.innerType ?? null;
  if (def.type === 'pipe') return def.in ?? null;
  return null;
}

function leaves(schema: AnySchema, path: string[], out: { path: string[]; meta: Meta; value: unknown; hasDefault: boolean }[]): void {
  const meta: Meta = {};
  let value: unknown;
  let hasDefault = false;
  let s: AnySchema | null = schema;
  let core: AnySchema = schema;
  while (s) {
    const m = (z.globalRegistry.get(s) ?? {}) as Meta;
    meta.description ??= m.description;
    meta.docDefault ??= m.docDefault;
    const def = s._zod.def as { type: string; defaultValue?: unknown };
    if (def.type === 'default' && !hasDefault) {
      hasDefault = true;
      value = def.defaultValue;
    }
    core = s;
    s = inner(s);
  }
  const def = core._zod.def as { type: string; shape?: Record<string, AnySchema> };
  if (def.type === 'object' && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) leaves(child, [...path, key], out);
    return;
  }
  out.push({ path, meta, value, hasDefault });
}

const ENV_NOTE: Record<string, string> = { list: ' (comma-separated)', json: ' (JSON)' };

/** Every leaf key of the schema, in schema order. */
export function configKeyDocs(): ConfigKeyDoc[] {
  const envByPath = new Map(Object.entries(ENV_VARS).map(([name, spec]) => [spec.path.join('.'), `${name}${ENV_NOTE[spec.type] ?? ''}`]));
  const found: Parameters<typeof leaves>[2] = [];
  leaves(configSchema, [], found);
  return found.map(({ path, meta, value, hasDefault }) => {
    const key = path.join('.');
    const defaultText = meta.docDefault ?? (!hasDefault ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));
    return { path: key, defaultText, defaultFromSchema: meta.docDefault === undefined && hasDefault, env: envByPath.get(key) ?? '', description: meta.description ?? '' };
  });
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table, markers included. */
export function configTable(): string {
  const rows = configKeyDocs().map((k) => `|${[k.path, k.defaultText, k.env, k.description].map((c) => (c ? ` ${cell(c)} ` : ' ')).join('|')}|`);
  return [TABLE_START, '| Key | Default | Env | Meaning |', '|---|---|---|---|', ...rows, TABLE_END].join('\n');
}

/** `doc` with the text between (and including) the markers replaced by the generated table. */
export function withConfigTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`docs/configuration.md: the markers ${TABLE_START} ... ${TABLE_END} are missing`);
  return doc.slice(0, start) + configTable() + doc.slice(end + TABLE_END.length);
}

export const CONFIG_DOC_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const doc = readFileSync(CONFIG_DOC_PATH, 'utf8');
  const next = withConfigTable(doc);
  if (next !== doc) writeFileSync(CONFIG_DOC_PATH, next);
  console.log(`${CONFIG_DOC_PATH}: ${configKeyDocs().length} keys${next === doc ? ', unchanged' : ', table rewritten'}`);
}
