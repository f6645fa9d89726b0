// The on-device schema, migrated by versioned steps like the server's (PRAGMA user_version).
// Synced rows and the outbox live in one database, so an optimistic change and its outbox entry
// commit together.
import type { Db } from './db';

/** The customers' search index: trigrams of each row's search text (searchText), rowid = synced.k. */
export const CUSTOMER_FTS = `CREATE VIRTUAL TABLE customer_fts USING fts5(text, tokenize = 'trigram', detail = none)`;

/** What search looks in, from the JSON `value` of synced row `s`: name, phone, address and tags. */
export const searchText = (s: string) => `concat_ws(' ', ${s}.value ->> '$.name', ${s}.value ->> '$.phone',
  ${s}.value ->> '$.address', (SELECT group_concat(tag.value, ' ') FROM json_each(${s}.value, '$.tags') tag))`;

/** The indexes lists are read through. A first sync drops them and builds them once at its end
 * (sorting 60,000 keys once is cheaper than inserting them in random order page by page). */
export const LIST_INDEXES = [
  'CREATE INDEX IF NOT EXISTS synced_sort ON synced (entity, sort_key)',
  // A customer's contacts, a stocktake's lines: found and ordered by the index (step 6).
  'CREATE INDEX IF NOT EXISTS synced_parent ON synced (entity, parent_id, sort_key) WHERE parent_id IS NOT NULL',
];
export const DROP_LIST_INDEXES = ['DROP INDEX IF EXISTS synced_sort', 'DROP INDEX IF EXISTS synced_parent'];

/** Pages of WAL after which a commit copies it into the database (about 16 MB, rather than SQLite's
 * 4 MB, so big syncs are not stopped often to do it); a first sync turns it off until its end. */
export const WAL_AUTOCHECKPOINT = 4000;

/** Builds the list indexes if a first sync was interrupted before its end. */
export function ensureIndexes(db: Db): void {
  for (const sql of LIST_INDEXES) db.run(sql);
}

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
  // 3: synced rows in a rowid table. As a WITHOUT ROWID table keyed by (entity, id), every row - a
  // JSON value of several hundred bytes - sat inside the key B-tree, which SQLite advises against.
  // The search index shares the synced row's rowid (fts_key goes), keeps no positions (detail=none:
  // substring search runs as LIKE, which the trigram index answers) and is brought up to date after
  // a sync rather than inside it: fts_todo lists the customer rows whose search text is not yet in
  // it, and search scans those directly, so it is exact at every moment.
  [
    `CREATE TABLE synced_rows (k INTEGER PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
       sort_key TEXT, parent_id TEXT)`,
    `INSERT INTO synced_rows (entity, id, value, sort_key, parent_id)
       SELECT entity, id, value, sort_key, parent_id FROM synced ORDER BY entity, id`,
    `DROP TABLE synced`,
    `ALTER TABLE synced_rows RENAME TO synced`,
    `CREATE UNIQUE INDEX synced_key ON synced (entity, id)`,
    ...LIST_INDEXES,
    `DROP TABLE customer_fts`,
    `DROP TABLE fts_key`,
    CUSTOMER_FTS,
    `CREATE TABLE fts_todo (k INTEGER PRIMARY KEY)`,
    `INSERT INTO fts_todo (k) SELECT k FROM synced WHERE entity = 'customer'`,
    // Every customer row written goes on the list, whoever writes it. Not INSERT OR IGNORE: the
    // conflict clause of the statement firing a trigger can take precedence over the trigger's own.
    // No delete trigger: deletes remove the row's index entry explicitly, since a trigger would turn
    // clearing the store into 60,000 deletes.
    `CREATE TRIGGER synced_search_insert AFTER INSERT ON synced WHEN NEW.entity = 'customer'
       BEGIN INSERT INTO fts_todo (k) SELECT NEW.k WHERE NOT EXISTS (SELECT 1 FROM fts_todo WHERE k = NEW.k); END`,
    `CREATE TRIGGER synced_search_update AFTER UPDATE OF value ON synced WHEN NEW.entity = 'customer'
       BEGIN INSERT INTO fts_todo (k) SELECT NEW.k WHERE NOT EXISTS (SELECT 1 FROM fts_todo WHERE k = NEW.k); END`,
  ],
  // 4: photos taken on the phone, by the SHA-256 of their bytes, kept here until the server has them
  // (uploaded apart from the outbox; a mutation names a photo by its hash).
  [
    `CREATE TABLE attachment (sha256 TEXT PRIMARY KEY, type TEXT NOT NULL, bytes BLOB NOT NULL,
       created_at INTEGER NOT NULL, uploaded_at INTEGER)`,
  ],
  // 5: new customers are put on the search to-do list by the statement that pulled them, in bulk
  // (engine.ts, NEW_CUSTOMERS_TO_INDEX): the trigger doing it row by row was a third of a first sync's
  // insert time. Changed rows keep their trigger.
  [`DROP TRIGGER synced_search_insert`],
  // 6: the parent index also orders a parent's rows, and leaves out rows without a parent. As
  // (entity, parent_id), SQLite preferred walking every contact in name order (the sort index) to
  // list one customer's contacts; now the lookup is the cheaper plan. Half the rows, so a first
  // sync builds it faster too.
  [`DROP INDEX IF EXISTS synced_parent`, LIST_INDEXES[1]],
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
