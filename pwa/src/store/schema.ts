// The on-device schema, migrated by versioned steps like the server's (PRAGMA user_version).
// Synced rows and the outbox live in one database, so an optimistic change and its outbox entry
// commit together.
import type { Db } from './db';

export const MIGRATIONS: string[][] = [
  // 1: synced rows, the overlay of pending changes, the outbox, full-text search, meta.
  [
    `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    // What the server confirmed (from pulls). sort_key orders lists; parent_id links contacts and
    // conflicts to their customer.
    `CREATE TABLE synced (entity TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, sort_key TEXT,
       parent_id TEXT, PRIMARY KEY (entity, id)) WITHOUT ROWID`,
    `CREATE INDEX synced_sort ON synced (entity, sort_key)`,
    `CREATE INDEX synced_parent ON synced (entity, parent_id)`,
    // Rows as the user sees them where pending mutations changed them (rebuilt on every pull).
    `CREATE TABLE overlay (entity TEXT NOT NULL, id TEXT NOT NULL, value TEXT, sort_key TEXT, parent_id TEXT,
       PRIMARY KEY (entity, id)) WITHOUT ROWID`,
    // Pending and rejected mutations. Ids are allocated here, in the same transaction.
    `CREATE TABLE outbox (id INTEGER PRIMARY KEY, name TEXT NOT NULL, args TEXT NOT NULL, hlc TEXT NOT NULL,
       created_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', code TEXT, message TEXT, params TEXT)`,
    `CREATE VIRTUAL TABLE customer_fts USING fts5(id UNINDEXED, text, tokenize = 'trigram')`,
  ],
  // 2: full-text rows keyed by an integer (fts_key), so replacing or deleting one is an index
  // lookup instead of a scan; the index is rebuilt from the synced rows.
  [
    `DROP TABLE customer_fts`,
    `CREATE TABLE fts_key (k INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)`,
    `CREATE VIRTUAL TABLE customer_fts USING fts5(text, tokenize = 'trigram')`,
    `INSERT INTO fts_key (id) SELECT id FROM synced WHERE entity = 'customer'`,
    `INSERT INTO customer_fts (rowid, text)
       SELECT k.k, concat_ws(' ', json_extract(s.value, '$.name'), json_extract(s.value, '$.phone'),
                             json_extract(s.value, '$.address'),
                             (SELECT group_concat(value, ' ') FROM json_each(s.value, '$.tags')))
         FROM synced s JOIN fts_key k ON k.id = s.id WHERE s.entity = 'customer'`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Db): number {
  const current = Number(db.get<{ user_version: number }>('PRAGMA user_version')?.user_version ?? 0);
  if (current > MIGRATIONS.length) {
    throw new Error(`on-device schema ${current} is newer than this app (${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.tx(() => {
      for (const sql of MIGRATIONS[v]) db.run(sql);
      db.run(`PRAGMA user_version = ${v + 1}`);
    });
  }
  return MIGRATIONS.length;
}
