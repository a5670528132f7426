import { createServer } from 'node:net';

/**
 * A TCP port the OS reports free on `host` now: bound to port 0 and released again before the caller uses it, so a
 * small race remains (another process may take it in between), as with any such probe.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
