import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { type Oo1Db, wrap } from '../src/store/db';
import { migrate } from '../src/store/schema';
import { SyncEngine } from '../src/sync/engine';
import { page } from './helpers';

it('syncs what the user typed to disk at commit, and leaves pulled pages to the WAL', async () => {
  const sqlite3 = await sqlite3InitModule();
  const raw = new sqlite3.oo1.DB(':memory:') as unknown as Oo1Db;
  const seen: string[] = [];
  const db = wrap({
    exec: (o) => {
      seen.push(o.sql);
      return raw.exec(o);
    },
    close: () => raw.close(),
  });
  migrate(db);
  const e = new SyncEngine(db, async () => ({ status: 500, body: {} }));
  e.adoptClient('dev-1');
  const around = (run: () => void) => {
    seen.length = 0;
    run();
    const begin = seen.indexOf('BEGIN IMMEDIATE');
    return { before: seen.slice(0, begin), after: seen.slice(seen.lastIndexOf('COMMIT') + 1) };
  };
  const typed = around(() => e.mutate('customer.create', { id: 'c1', name: '珠江酒店' }));
  expect(typed.before.at(-1)).toBe('PRAGMA synchronous = FULL');
  expect(typed.after[0]).toBe('PRAGMA synchronous = NORMAL');
  const resent = around(() => {
    db.run("UPDATE outbox SET state = 'rejected' WHERE id = 1");
    e.resend(1);
  });
  expect(resent.before.at(-1)).toBe('PRAGMA synchronous = FULL');
  const pulled = around(() =>
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c2', value: { id: 'c2', name: 'x' } }] }) as never),
  );
  expect(pulled.before.concat(pulled.after).filter((sql) => sql.includes('synchronous'))).toEqual([]);
});
