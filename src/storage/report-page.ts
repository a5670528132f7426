import { readFileSync } from 'node:fs';

const html = readFileSync(new URL('./report/report.html', import.meta.url), 'utf8');
const js = readFileSync(new URL('./report/report.js', import.meta.url), 'utf8');

/** The report page of one session: one self-contained HTML document (inline script and SVG, nothing external). */
export function reportPage(sessionId: string): string {
  // JSON inside <script>: `<` escaped so no id can close the script element.
  const id = JSON.stringify(sessionId).replace(/</g, '\\u003c');
  return html.replace('__SESSION_ID__', () => id).replace('__REPORT_JS__', () => js);
}
