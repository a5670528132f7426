/** Keys whose values are filesystem locations. */
const PATH_KEYS = new Set(['path', 'dir', 'file', 'modelDir', 'modelPath', 'onnxPath']);
/** An absolute POSIX or Windows path inside a string (error messages name the missing file). */
const ABSOLUTE_PATH = /(?:[A-Za-z]:\\|\/)(?:[^\s'"`:,;()]+[\\/])+([^\s'"`:,;()\\/]*)/g;

/**
 * A copy of a JSON value with filesystem paths removed: keys that hold a path are dropped, absolute paths inside
 * strings are cut down to their file name. For what non-admins see of /v1/models (docs/security.md).
 */
export function withoutPaths(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(ABSOLUTE_PATH, (_m, base: string) => base || '.');
  if (Array.isArray(value)) return value.map(withoutPaths);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!PATH_KEYS.has(k)) out[k] = withoutPaths(v);
    return out;
  }
  return value;
}
