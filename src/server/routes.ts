import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** A request as every route handler sees it, whichever transport (uWS or node:http) carried it. */
export interface HttpRequest {
  method: string;
  path: string;
  /** `:name` captures and `*` for a trailing wildcard. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** The peer's address (both transports fill it in; hand-made requests may leave it out). */
  remoteAddress?: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
}

export type RouteHandler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | '*';

interface Route {
  method: HttpMethod;
  segments: string[];
  wildcard: boolean;
  handler: RouteHandler;
  bodyLimitBytes: number;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.wasm': 'application/wasm', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/**
 * Transport-neutral HTTP routes: method + path pattern (`/v1/whip/:id`, `/static/*`) -> handler. Both transports
 * read the body (up to the route's limit, 413 beyond), call `dispatch` and write the HttpResponse. Routes can be
 * added at any time; the first matching route wins, in registration order.
 */
export class RouteTable {
  private readonly routes: Route[] = [];

  constructor(private readonly defaultBodyLimitBytes: number) {}

  add(method: HttpMethod, pattern: string, handler: RouteHandler, opts: { bodyLimitBytes?: number } = {}): void {
    const segments = pattern.split('/').filter(Boolean);
    const wildcard = segments[segments.length - 1] === '*';
    if (wildcard) segments.pop();
    this.routes.push({ method, segments, wildcard, handler, bodyLimitBytes: opts.bodyLimitBytes ?? this.defaultBodyLimitBytes });
  }

  /** GET/HEAD of files under `dir` at `prefix` (index.html for directories); never escapes `dir`. */
  static(prefix: string, dir: string): void {
    const root = resolve(dir);
    const handler: RouteHandler = async (req) => {
      const rel = normalize(decodeURIComponent(req.params['*'] ?? '')).replace(/^([/\\])+/, '');
      let file = resolve(join(root, rel));
      if (file !== root && !file.startsWith(root + sep)) return { status: 403, body: 'forbidden' };
      try {
        if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
        const body = await readFile(file);
        return { status: 200, headers: { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }, body: req.method === 'HEAD' ? '' : body };
      } catch {
        return { status: 404, body: 'not found' };
      }
    };
    const p = prefix.replace(/\/$/, '');
    this.add('GET', `${p}/*`, handler);
    this.add('HEAD', `${p}/*`, handler);
  }

  /** The route for a method and path, or why there is none (404 / 405). */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { status: 404 | 405 } {
    const parts = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = matchSegments(route, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method === '*' || route.method === method) return { route, params };
    }
    return { status: pathMatched ? 405 : 404 };
  }

  /** Body limit for the route a request will hit (transports read at most this much). */
  bodyLimit(method: string, path: string): number {
    const m = this.match(method, path);
    return 'route' in m ? m.route.bodyLimitBytes : this.defaultBodyLimitBytes;
  }

  async dispatch(req: Omit<HttpRequest, 'params'>): Promise<HttpResponse> {
    const m = this.match(req.method, req.path);
    if (!('route' in m)) return json(m.status, { error: m.status === 404 ? 'not found' : 'method not allowed' });
    try {
      return await m.route.handler({ ...req, params: m.params });
    } catch (err) {
      return json(500, { error: 'internal error', message: err instanceof Error ? err.message : String(err) });
    }
  }
}

function matchSegments(route: Route, parts: string[]): Record<string, string> | null {
  if (route.wildcard ? parts.length < route.segments.length : parts.length !== route.segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const s = route.segments[i];
    if (s.startsWith(':')) params[s.slice(1)] = decodeURIComponent(parts[i]);
    else if (s !== parts[i]) return null;
  }
  if (route.wildcard) params['*'] = parts.slice(route.segments.length).join('/');
  return params;
}
