import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, type ErrorCode } from '../../../src/protocol/v1/errors.js';

/**
 * The error tables in the docs against the code's catalogues: docs/protocol.md <-> ERROR_CATALOGUE (codes, close
 * codes, fatality, HTTP status where the catalogue gives one) and docs/webrtc.md <-> the catalogue's HTTP-only (WHIP)
 * codes (codes, HTTP status).
 * A table is read as Markdown renders it: the header row, its separator, then contiguous `|` rows; a row cut off by a
 * blank line or a paragraph belongs to no table and fails the test.
 */

const doc = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8').split('\n');
const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
const bare = (code: string) => code.replace(/`/g, '');
const entry = (code: ErrorCode): { closeCode: number | null; close: boolean; text: string; httpStatus?: number } => ERROR_CATALOGUE[code];
/** Codes only ever sent as an HTTP answer (WHIP signalling): no close code, an HTTP status. */
const httpOnly = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((c) => entry(c).closeCode === null);

interface Table { header: string[]; rows: string[][] }

/** Every table whose first column is `Code`. */
function codeTables(lines: string[]): Table[] {
  const tables: Table[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const header = cells(lines[i]);
    if (!lines[i].trim().startsWith('|') || header[0] !== 'Code' || !/^\|?\s*:?-+/.test(lines[i + 1].trim())) continue;
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].trim().startsWith('|'); j++) rows.push(cells(lines[j]));
    tables.push({ header, rows });
    i = j;
  }
  return tables;
}

/** Code rows that are in no table (a blank line or a paragraph in the middle of one makes these). */
function strayRows(lines: string[], tables: Table[]): string[] {
  const inTables = new Set(tables.flatMap((t) => t.rows.map((r) => bare(r[0]))));
  return lines.filter((l) => /^\|\s*`?EMO_ERR_/.test(l.trim())).map((l) => bare(cells(l)[0])).filter((c) => !inTables.has(c));
}

test('docs/protocol.md error table lists exactly the catalogue, with its close codes, fatality and HTTP statuses', () => {
  const lines = doc('protocol.md');
  const tables = codeTables(lines).filter((t) => t.header.includes('Close code'));
  assert.equal(tables.length, 1, 'one error table in protocol.md');
  const [table] = tables;
  assert.deepEqual(strayRows(lines, tables), [], 'rows cut off from the table (a blank line or a paragraph inside it)');
  const col = (name: string) => table.header.indexOf(name);
  const documented = new Map(table.rows.map((r) => [bare(r[0]), r]));
  assert.equal(documented.size, table.rows.length, 'no code documented twice');
  const catalogue = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
  assert.deepEqual([...documented.keys()].filter((c) => !(c in ERROR_CATALOGUE)), [], 'documented codes the catalogue lacks');
  assert.deepEqual(catalogue.filter((c) => !documented.has(c)), [], 'catalogue codes the table lacks');
  for (const code of catalogue) {
    const row = documented.get(code)!;
    const { closeCode, close, text, httpStatus } = entry(code);
    const cell = row[col('Close code')];
    if (closeCode === null) assert.equal(cell, '—', `${code}: HTTP-only, no close code`);
    else assert.equal(Number(cell), closeCode, `${code}: close code`);
    assert.equal(row[col('Fatal')], close ? 'yes' : 'no', `${code}: fatal`);
    const http = httpStatus ?? /\[(\d{3})\]/.exec(text)?.[1];
    if (http) assert.match(row[col('When')], new RegExp(`HTTP ${http}\\b`), `${code}: the table gives its HTTP status ${http}`);
  }
});

test('docs/webrtc.md WHIP error table lists exactly the HTTP-only codes with their HTTP statuses', () => {
  const lines = doc('webrtc.md');
  const tables = codeTables(lines).filter((t) => t.header.includes('HTTP'));
  assert.equal(tables.length, 1, 'one WHIP error table in webrtc.md');
  assert.deepEqual(strayRows(lines, tables), [], 'rows cut off from the table');
  const rows = new Map(tables[0].rows.map((r) => [bare(r[0]), Number(r[1])]));
  assert.deepEqual([...rows.keys()].filter((c) => !httpOnly.includes(c as ErrorCode)), [], 'documented WHIP codes the catalogue lacks');
  assert.deepEqual(httpOnly.filter((c) => !rows.has(c)), [], 'WHIP codes the table lacks');
  for (const c of httpOnly) assert.equal(rows.get(c), entry(c).httpStatus, `${c}: HTTP status`);
});

test('the face pipeline raises only non-fatal codes of the one catalogue (the server forwards them)', () => {
  // Every code src/face throws, read from its source: the analyzer rejects a frame with ProtocolError(code, ...).
  const dir = new URL('../../../src/face/', import.meta.url);
  const faceCodes = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/new ProtocolError\('(EMO_ERR_[A-Z_]+)'/g)) faceCodes.add(m[1]);
  }
  assert.ok(faceCodes.has('EMO_ERR_VIDEO_DECODE') && faceCodes.has('EMO_ERR_VIDEO_BUSY'), `found the face codes: ${[...faceCodes].join(', ')}`);
  for (const code of faceCodes) {
    assert.ok(code in ERROR_CATALOGUE, `${code} is in the catalogue`);
    assert.equal(entry(code as ErrorCode).close, false, `${code} does not end the session`);
    assert.notEqual(entry(code as ErrorCode).closeCode, null, `${code} is a session code, not an HTTP-only one`);
  }
});
