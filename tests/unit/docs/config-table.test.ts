import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configKeyDocs, configTable, CONFIG_DOC_PATH, TABLE_END, TABLE_START } from '../../../src/server/config-doc.js';
import { ENV_VARS, loadConfig } from '../../../src/server/config.js';

const doc = readFileSync(CONFIG_DOC_PATH, 'utf8');

test('docs/configuration.md holds the table generated from the config schema (npm run docs:config)', () => {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, 'the generated-table markers are in docs/configuration.md');
  const documented = doc.slice(start, end + TABLE_END.length);
  const rows = (t: string) => t.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Key '));
  const keys = (t: string) => rows(t).map((l) => l.split('|')[1].trim());
  const schemaKeys = configKeyDocs().map((k) => k.path);
  assert.deepEqual(keys(documented).filter((k) => !schemaKeys.includes(k)), [], 'documented keys the schema lacks');
  assert.deepEqual(schemaKeys.filter((k) => !keys(documented).includes(k)), [], 'schema keys the doc lacks');
  assert.equal(documented, configTable(), 'the table is out of date: run npm run docs:config');
});

test('every schema key has a description, and every environment variable sets a documented key', () => {
  const docs = configKeyDocs();
  assert.ok(docs.length > 100, `${docs.length} keys`);
  assert.deepEqual(docs.filter((k) => k.description.trim().length < 5).map((k) => k.path), [], 'keys without a description (.describe in the schema)');
  const paths = new Set(docs.map((k) => k.path));
  assert.deepEqual(Object.entries(ENV_VARS).filter(([, spec]) => !paths.has(spec.path.join('.'))).map(([name]) => name), [], 'variables naming no schema key');
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const row = docs.find((k) => k.path === spec.path.join('.'))!;
    assert.ok(row.env.startsWith(name), `${name} is in the Env column of ${row.path}`);
  }
});

test('the documented defaults are the defaults loadConfig gives', () => {
  const config = loadConfig({ env: {} }) as unknown as Record<string, unknown>;
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
  const fixed = configKeyDocs().filter((k) => k.defaultFromSchema);
  assert.ok(fixed.length > 80, `${fixed.length} keys with a fixed default`);
  for (const k of fixed) {
    const value = at(k.path);
    assert.equal(k.defaultText, typeof value === 'string' ? value : JSON.stringify(value), `${k.path}: documented default`);
  }
});
