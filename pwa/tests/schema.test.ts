import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { type Oo1Db, wrap } from '../src/store/db';
import { MIGRATIONS, migrate } from '../src/store/schema';
import { SyncEngine } from '../src/sync/engine';

it('migrates an on-device database step by step, keeping synced rows and the outbox', async () => {
  const sqlite3 = await sqlite3InitModule();
  const db = wrap(new sqlite3.oo1.DB(':memory:') as unknown as Oo1Db);
  // a phone still on schema 1, holding a synced customer and an unsynced change
  db.tx(() => {
    for (const sql of MIGRATIONS[0]) db.run(sql);
    db.run('PRAGMA user_version = 1');
    db.run("INSERT INTO synced (entity, id, value, sort_key) VALUES ('customer', 'c1', ?, 'pearl')", [
      JSON.stringify({ id: 'c1', name: 'Pearl River 珠江酒店', phone: '13800000000', tags: ['VIP'], version: 2 }),
    ]);
    db.run("INSERT INTO outbox (id, name, args, hlc, created_at) VALUES (1, 'customer.update', ?, 'h', 1)", [
      JSON.stringify({ id: 'c1', base: 2, address: 'Unsynced' }),
    ]);
    db.run("INSERT INTO meta (key, value) VALUES ('clientId', 'dev-1'), ('nextMutationId', '2')");
  });
  expect(migrate(db)).toBe(MIGRATIONS.length);
  expect(db.get<{ user_version: number }>('PRAGMA user_version')?.user_version).toBe(MIGRATIONS.length);
  const e = new SyncEngine(db, async () => ({ status: 500, body: {} }));
  expect(e.outbox('pending').map((m) => m.args.address)).toEqual(['Unsynced']);
  expect(e.customers('珠江酒').map((c) => c.id)).toEqual(['c1']);
  expect(e.customers('vip').map((c) => c.id)).toEqual(['c1']);
  expect(e.indexSearch()).toBe(0); // the migrated rows are indexed after the migration, not during it
  expect(e.customers('珠江酒').map((c) => c.id)).toEqual(['c1']);
  expect(e.customers('river').map((c) => c.id)).toEqual(['c1']);
  expect(migrate(db)).toBe(MIGRATIONS.length); // idempotent
});

it('refuses a database from a newer app instead of damaging it', async () => {
  const sqlite3 = await sqlite3InitModule();
  const db = wrap(new sqlite3.oo1.DB(':memory:') as unknown as Oo1Db);
  db.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  expect(() => migrate(db)).toThrow(/newer/);
});
