import { resolve } from 'node:path';

export type StorageTarget =
  | { kind: 'none' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

export const SQLITE_FILE = 'emostream.sqlite';

/**
 * Where history goes, from `storage.databaseUrl` (env EMOSTREAM_DATABASE_URL): unset = SQLite file
 * `<storage.dataDir>/emostream.sqlite`; `sqlite:PATH` = that file; `postgres://...` / `postgresql://...` = PostgreSQL;
 * `none` = no storage. Anything else is a configuration error naming the accepted forms.
 */
export function storageTarget(databaseUrl: string | undefined, dataDir: string): StorageTarget {
  const url = databaseUrl?.trim();
  if (!url) return { kind: 'sqlite', path: resolve(dataDir, SQLITE_FILE) };
  if (url === 'none') return { kind: 'none' };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new Error('storage.databaseUrl "sqlite:" needs a file path, e.g. sqlite:/var/lib/emostream/history.sqlite');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new Error(`storage.databaseUrl ${JSON.stringify(redact(url))} is not one of: postgres://..., sqlite:PATH, none (unset = SQLite under storage.dataDir)`);
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
