// A small synchronous facade over SQLite-WASM's oo1 API. The same code runs in the app's worker
// (OPFS, opfs-sahpool VFS) and in Vitest (in memory).

export type Row = Record<string, unknown>;

export interface Db {
  run(sql: string, bind?: unknown[]): void;
  all<T = Row>(sql: string, bind?: unknown[]): T[];
  get<T = Row>(sql: string, bind?: unknown[]): T | undefined;
  /** A write transaction: everything in `fn` commits together or not at all. A `durable` one is on
   * disk when it returns, even through a power cut (what the user typed); the others (pulled rows,
   * which the server can send again) may roll back to an earlier consistent state. */
  tx<T>(fn: () => T, durable?: boolean): T;
  close(): void;
}

// Minimal structural types of the oo1 API we use (the package's own .d.ts is large).
export interface Oo1Db {
  exec(opts: { sql: string; bind?: unknown[]; rowMode?: 'object'; returnValue?: 'resultRows' }): unknown;
  close(): void;
}

export class StorageFullError extends Error {
  constructor(cause: unknown) {
    super('The phone is out of storage space for Outpost.');
    this.name = 'StorageFullError';
    this.cause = cause;
  }
}

/** Out of storage, as SQLite reports it: SQLITE_FULL (a size limit), or SQLITE_IOERR from the
 * opfs-sahpool VFS, which turns every failed OPFS write (the browser's QuotaExceededError: the
 * origin's quota is used up) into an I/O error without saying why. */
function translate(e: unknown): unknown {
  const text = String((e as Error)?.message ?? e);
  if (/SQLITE_FULL|SQLITE_IOERR|disk I\/O error|quota|QuotaExceeded|disk is full/i.test(text)) return new StorageFullError(e);
  return e;
}

export function wrap(db: Oo1Db): Db {
  let depth = 0;
  const api: Db = {
    run(sql, bind) {
      try {
        db.exec({ sql, bind: bind as unknown[] });
      } catch (e) {
        throw translate(e);
      }
    },
    all<T>(sql: string, bind?: unknown[]): T[] {
      return db.exec({ sql, bind, rowMode: 'object', returnValue: 'resultRows' }) as T[];
    },
    get<T>(sql: string, bind?: unknown[]): T | undefined {
      return api.all<T>(sql, bind)[0];
    },
    tx<T>(fn: () => T, durable = false): T {
      if (depth > 0) return fn();
      // WAL with synchronous NORMAL (the store's setting) syncs nothing at commit; FULL syncs the WAL,
      // and with it every earlier commit.
      if (durable) db.exec({ sql: 'PRAGMA synchronous = FULL' });
      db.exec({ sql: 'BEGIN IMMEDIATE' });
      depth++;
      try {
        const out = fn();
        db.exec({ sql: 'COMMIT' });
        return out;
      } catch (e) {
        try {
          db.exec({ sql: 'ROLLBACK' });
        } catch {
          // SQLite has rolled back already (it may, on SQLITE_FULL or an I/O error): the error to
          // report is the first one, not "no transaction is active"
        }
        throw translate(e);
      } finally {
        depth--;
        if (durable) db.exec({ sql: 'PRAGMA synchronous = NORMAL' });
      }
    },
    close() {
      db.close();
    },
  };
  return api;
}
