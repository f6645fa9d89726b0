// The client half of the sync log (ARCHITECTURE.md §3): an outbox of pending mutations in the
// on-device database, optimistic local apply, push then pull, rebase of still-pending mutations
// over pulled state, HLC stamps and `base` on updates, paged first sync with progress, `clear`,
// `reset-required` and the typed 401s. It does no I/O itself: `transport` sends the requests.
import type { PullResponse } from '../protocol.gen';
import { PROTOCOL } from '../protocol.gen';
import type { Db } from '../store/db';
import { CUSTOMER_FTS, DROP_LIST_INDEXES, LIST_INDEXES, searchText as searchTextSql, WAL_AUTOCHECKPOINT } from '../store/schema';
import { tick } from './hlc';

// biome-ignore lint/suspicious/noExplicitAny: rows are free-form JSON objects
export type Value = Record<string, any>;
export interface Reply {
  status: number;
  body: Value;
}
export type Transport = (path: string, body: unknown) => Promise<Reply>;

/** A pull answer in two lines (what the app asks for): the envelope with the page's clear and del
 * ops as its patch, then its put ops as one JSON array, kept as the bytes that arrived. A page names
 * each row at most once and a clear comes first, so the puts apply after the rest. */
export const PULL_LINES = 'application/vnd.outpost.pull+jsonl';
export type PullPage = PullResponse & { puts?: Uint8Array };

export class SyncStopped extends Error {
  constructor(public code: string) {
    super(code);
    this.name = 'SyncStopped';
  }
}
export class UpdateRequired extends Error {
  constructor() {
    super('update-required');
    this.name = 'UpdateRequired';
  }
}
export class ServerRefused extends Error {
  constructor(
    public status: number,
    public body: Value,
  ) {
    super(`${status} ${body?.error ?? ''} ${body?.detail ?? ''}`.trim());
    this.name = 'ServerRefused';
  }
}

/** A change bigger or deeper than the server takes (PROTOCOL.maxArgsBytes / maxArgsDepth): refused
 * on the phone before it is queued, so the person is told at once and keeps what they entered,
 * instead of the server rejecting it later. */
export class ChangeTooLarge extends Error {
  constructor(
    public code: 'args-too-large' | 'args-too-deep',
    public limit: number,
  ) {
    super(code === 'args-too-large' ? `The change is larger than ${limit} bytes.` : `The change is nested more than ${limit} levels deep.`);
    this.name = 'ChangeTooLarge';
  }
}

/** Check a change's arguments against the protocol's bounds (without recursion: any input is safe). */
export function checkArgs(args: unknown): void {
  const stack: [unknown, number][] = [[args, 1]];
  while (stack.length) {
    const [v, level] = stack.pop() as [unknown, number];
    if (v && typeof v === 'object') {
      if (level > PROTOCOL.maxArgsDepth) throw new ChangeTooLarge('args-too-deep', PROTOCOL.maxArgsDepth);
      for (const child of Object.values(v)) stack.push([child, level + 1]);
    }
  }
  if (new TextEncoder().encode(JSON.stringify(args)).length > PROTOCOL.maxArgsBytes) {
    throw new ChangeTooLarge('args-too-large', PROTOCOL.maxArgsBytes);
  }
}

export interface OutboxEntry {
  id: number;
  name: string;
  args: Value;
  hlc: string;
  createdAt: number;
  state: 'pending' | 'rejected';
  code?: string | null;
  message?: string | null;
  params?: Value | null;
}

export interface SyncStatus {
  clientId: string | null;
  pending: number;
  oldestPendingAt: number | null;
  rejected: number;
  conflicts: number;
  /** Photos taken here that the server does not have yet. */
  pendingPhotos: number;
  lastSyncAt: number | null;
  lastError: string | null;
  progress: { done: number; total: number } | null;
  stopped: string | null;
  updateRequired: boolean;
}

/** The optimistic effect of a mutation on one row (the server's rules decide for real). */
export function applyMutation(row: Value | undefined, name: string, args: Value): Value | undefined {
  if (name === 'stocktake.scan') {
    // An append-only fact: shown at once, as the server will record it (it adds who and the asset).
    return { condition: 'ok', note: null, photo: null, locationId: null, ...args, undone: false, late: false, version: 0 };
  }
  if (name === 'stocktake.undo') return row ? { ...row, undone: true } : row;
  if (name === 'stocktake.finish') return row ? { ...row, finishedByMe: true } : row;
  if (name === 'stocktake.close') return row ? { ...row, state: 'closed', closeReason: args.reason ?? null } : row;
  const verb = name.split('.')[1];
  if (verb === 'create') {
    const created: Value = { ...args };
    if (created.version === undefined) created.version = 0;
    if (name === 'customer.create') {
      created.kind ??= 'enterprise';
      created.status ??= 'potential';
      created.tags ??= [];
    }
    return { ...(row ?? {}), ...created };
  }
  if (verb === 'update') {
    if (!row) return row;
    const { id: _id, base: _base, ...changes } = args;
    return { ...row, ...changes };
  }
  return row;
}

/** The row a mutation changes: `<entity>.<verb>` with `args.id`, except where the name says otherwise. */
export function keyOf(name: string, args: Value): [string, string] {
  if (name === 'stocktake.scan' || name === 'stocktake.undo') return ['stocktake_scan', String(args.id)];
  if (name === 'stocktake.finish' || name === 'stocktake.close') return ['stocktake', String(args.stocktakeId)];
  return [name.split('.')[0], String(args.id)];
}

/** Lower case as SQLite's lower() and LIKE see it (ASCII only), so SQL and JS agree on order and matches. */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

// List order and parent of a row; SORT_KEY and PARENT_ID are the same rules in SQL (PUT_ROWS).
// Conflicts list by time, scans by when they were made, expected-list lines by tag, the rest by name.
function sortKey(entity: string, v: Value): string | null {
  if (entity === 'conflict') return String(v.createdAt ?? '');
  if (entity === 'stocktake_scan') return String(v.scannedAt ?? '');
  if (entity === 'stocktake_item') return String(v.tag ?? '');
  return typeof v.name === 'string' ? asciiLower(v.name) : null;
}
// In SQL: over `e` (entity), `v` (the value, binary JSON) and `n` (its name) of a pulled op
// (PUT_ROWS). `n` is taken out once with jsonb_extract, which gives text only for a JSON string.
const SORT_KEY = `CASE WHEN e = 'conflict' THEN coalesce(v ->> 'createdAt', '')
  WHEN e = 'stocktake_scan' THEN coalesce(v ->> 'scannedAt', '')
  WHEN e = 'stocktake_item' THEN coalesce(v ->> 'tag', '')
  WHEN typeof(n) = 'text' THEN lower(n) END`;

function parentOf(entity: string, v: Value): string | null {
  if (entity === 'stocktake_item' || entity === 'stocktake_scan') return v.stocktakeId ?? null;
  return entity === 'contact' || entity === 'conflict' ? (v.customerId ?? null) : null;
}
const PARENT_ID = `CASE WHEN e IN ('contact', 'conflict') THEN v ->> 'customerId'
  WHEN e IN ('stocktake_item', 'stocktake_scan') THEN v ->> 'stocktakeId' END`;

function searchText(v: Value): string {
  return [v.name, v.phone, v.address, ...(Array.isArray(v.tags) ? v.tags : [])].filter(Boolean).join(' ');
}

/** Search hits above which walking the list in order beats fetching every hit from the index. */
const COMMON = 1000;

// A run of pulled `put` ops, bound as one JSON array: SQLite reads it with json_each, so 5,000 rows
// cost one statement instead of 5,000 bindings from JavaScript. Each op's entity, id and value are
// taken out once (MATERIALIZED): read straight from json_each, every use re-rendered and re-parsed
// the op's JSON, which cost as much as the rest of the insert. New customers go on the search to-do
// list afterwards, in one statement (NEW_CUSTOMERS_TO_INDEX), rather than by a trigger row by row.
// The ops come as JSON text or as its UTF-8 bytes (a two-line pull answer's second line, bound as
// they arrived); either way SQLite parses them once, into its binary JSON, which it reads faster.
const PUT_ROWS = `WITH p AS MATERIALIZED (SELECT value ->> 'entity' AS e, value ->> 'id' AS i,
      jsonb_extract(value, '$.value') AS v, jsonb_extract(value, '$.value.name') AS n
    FROM json_each(jsonb(CAST(? AS TEXT))))
  INSERT INTO synced (entity, id, value, sort_key, parent_id)
  SELECT e, i, json(v), ${SORT_KEY}, ${PARENT_ID} FROM p WHERE true
  ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, sort_key = excluded.sort_key,
    parent_id = excluded.parent_id`;
/** Rows inserted since `?` (the largest key before them) that search must index. (A changed row is
 * put on the list by the synced_search_update trigger.) */
const NEW_CUSTOMERS_TO_INDEX = `INSERT OR IGNORE INTO fts_todo (k) SELECT k FROM synced WHERE k > ? AND entity = 'customer'`;

export interface EngineOptions {
  now?: () => number;
  pushBatch?: number;
}

export class SyncEngine {
  private now: () => number;
  private pushBatch: number;
  /** A first sync has ended without copying its WAL into the database: the worker does it when idle. */
  checkpointDue = false;

  constructor(
    private db: Db,
    private transport: Transport,
    opts: EngineOptions = {},
  ) {
    this.now = opts.now ?? (() => Date.now());
    this.pushBatch = opts.pushBatch ?? 100;
  }

  // ------------------------------------------------------------------ meta

  meta(key: string): string | null {
    return this.db.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key])?.value ?? null;
  }

  setMeta(key: string, value: string | number | null): void {
    if (value === null) this.db.run('DELETE FROM meta WHERE key = ?', [key]);
    else
      this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
        key,
        String(value),
      ]);
  }

  get clientId(): string | null {
    return this.meta('clientId');
  }

  get cookie(): string | null {
    return this.meta('cookie');
  }

  /** Bind the store to the device id issued at login. A new id (the old device was revoked)
   * renumbers the outbox from 1 for the new client and starts a full sync; nothing is dropped. */
  adoptClient(clientId: string): void {
    this.db.tx(() => {
      const old = this.clientId;
      if (old === clientId) return;
      const entries = this.db.all<{ id: number }>('SELECT id FROM outbox ORDER BY id');
      let next = 1;
      this.db.run('UPDATE outbox SET id = -id');
      for (const e of entries) this.db.run('UPDATE outbox SET id = ? WHERE id = ?', [next++, -e.id]);
      this.setMeta('clientId', clientId);
      this.setMeta('nextMutationId', next);
      this.setMeta('lastMutationId', 0);
      this.setMeta('cookie', null);
      this.setMeta('stopped', null);
    });
  }

  // ------------------------------------------------------------------ reading

  view(entity: string, id: string, mark = false): Value | undefined {
    const o = this.db.get<{ value: string | null }>('SELECT value FROM overlay WHERE entity = ? AND id = ?', [entity, id]);
    if (o) return o.value === null ? undefined : { ...JSON.parse(o.value), ...(mark ? { pending: true } : {}) };
    const s = this.db.get<{ value: string }>('SELECT value FROM synced WHERE entity = ? AND id = ?', [entity, id]);
    return s ? JSON.parse(s.value) : undefined;
  }

  synced(entity: string, id: string): Value | undefined {
    const s = this.db.get<{ value: string }>('SELECT value FROM synced WHERE entity = ? AND id = ?', [entity, id]);
    return s ? JSON.parse(s.value) : undefined;
  }

  /**
   * Rows of one entity in list order: synced rows walked through the (entity, sort_key) index with a
   * LIMIT, merged with the few rows that pending changes override (the overlay).
   */
  private list(entity: string, where: string, bind: unknown[], keep: (v: Value) => boolean, limit: number): Value[] {
    const over = this.db.all<{ id: string; value: string | null; sort_key: string | null }>(
      'SELECT id, value, sort_key FROM overlay WHERE entity = ?',
      [entity],
    );
    const overridden = new Set(over.map((o) => o.id));
    const synced = this.db.all<{ id: string; value: string; sk: string | null }>(
      `SELECT id, value, sort_key AS sk FROM synced WHERE entity = ? AND (${where}) ORDER BY sort_key LIMIT ?`,
      [entity, ...bind, limit + overridden.size],
    );
    const rows: Array<{ sk: string; v: Value }> = synced
      .filter((r) => !overridden.has(r.id))
      .map((r) => ({ sk: r.sk ?? '', v: JSON.parse(r.value) }));
    for (const o of over) {
      if (o.value === null) continue;
      const v = JSON.parse(o.value);
      if (keep(v)) rows.push({ sk: o.sort_key ?? '', v: { ...v, pending: true } });
    }
    rows.sort((x, y) => (x.sk < y.sk ? -1 : x.sk > y.sk ? 1 : 0));
    return rows.slice(0, limit).map((r) => r.v);
  }

  /** My customers, optionally filtered by a search over name, phone, address and tags. */
  customers(query = '', limit = 50): Value[] {
    const q = query.trim();
    if (!q) return this.list('customer', '1', [], () => true, limit);
    const needle = asciiLower(q);
    const keep = (v: Value) => asciiLower(searchText(v)).includes(needle);
    const scan = `instr(lower(${searchTextSql('synced')}), ?) > 0`;
    if (this.searchBacklog() <= COMMON) {
      // The trigram index answers LIKE for three characters or more (shorter ones scan its text).
      // LIKE is not exact - '%' and '_' typed by the user are wildcards, and an ESCAPE clause would
      // stop the index being used - so instr() checks each hit. Rows on the to-do list are scanned.
      const hits = this.db.all<{ k: number }>(
        `SELECT rowid AS k FROM customer_fts WHERE text LIKE ? AND instr(lower(text), ?) > 0
            AND rowid NOT IN (SELECT k FROM fts_todo) LIMIT ${COMMON + 1}`,
        [`%${q}%`, needle],
      );
      if (hits.length <= COMMON) {
        const ids = `k IN (SELECT value FROM json_each(?))
          OR k IN (SELECT s.k FROM fts_todo t CROSS JOIN synced s ON s.k = t.k WHERE instr(lower(${searchTextSql('s')}), ?) > 0)`;
        return this.list('customer', ids, [JSON.stringify(hits.map((h) => h.k)), needle], keep, limit);
      }
    }
    // A common word (or the index still catching up after a first sync): walking the list in order
    // and checking each row finds a page of matches long before it reaches the end.
    return this.list('customer', scan, [needle], keep, limit);
  }

  /** Customers whose search text is not in the index yet (search scans them meanwhile). */
  searchBacklog(): number {
    return Number(this.db.get<{ n: number }>('SELECT count(*) AS n FROM fts_todo')?.n ?? 0);
  }

  customerCount(): number {
    return Number(this.db.get<{ n: number }>("SELECT count(*) AS n FROM synced WHERE entity = 'customer'")?.n ?? 0);
  }

  contacts(customerId: string): Value[] {
    return this.list('contact', 'parent_id = ?', [customerId], (v) => v.customerId === customerId, 500);
  }

  /** Stocktake campaigns on this phone (assigned to me, or of the units whose assets I read). */
  stocktakes(): Value[] {
    return this.list('stocktake', '1', [], () => true, 200);
  }

  /** A campaign's expected list (frozen when it started), in tag order. */
  stocktakeItems(stocktakeId: string): Value[] {
    return this.list('stocktake_item', 'parent_id = ?', [stocktakeId], () => false, 100_000);
  }

  /** A campaign's scans, everyone's, in the order they were made; mine not yet sent included. */
  stocktakeScans(stocktakeId: string): Value[] {
    return this.list('stocktake_scan', 'parent_id = ?', [stocktakeId], (v) => v.stocktakeId === stocktakeId, 100_000);
  }

  // ------------------------------------------------------------------ attachments

  /** Keep a photo until the server has it (a durable commit: it may be the only copy). */
  addAttachment(sha256: string, type: string, bytes: Uint8Array): void {
    this.db.tx(() => {
      this.db.run('INSERT OR IGNORE INTO attachment (sha256, type, bytes, created_at) VALUES (?, ?, ?, ?)', [
        sha256,
        type,
        bytes,
        this.now(),
      ]);
    }, true);
  }

  /** Photos the server does not have yet, oldest first. */
  pendingAttachments(): Array<{ sha256: string; type: string; bytes: Uint8Array }> {
    return this.db.all('SELECT sha256, type, bytes FROM attachment WHERE uploaded_at IS NULL ORDER BY created_at');
  }

  /** The server has it: its bytes are no longer needed here. */
  attachmentUploaded(sha256: string): void {
    this.db.run("UPDATE attachment SET uploaded_at = ?, bytes = x'' WHERE sha256 = ?", [this.now(), sha256]);
  }

  /** Assets this phone holds (the units whose assets I read, and those in my custody), by tag,
   * optionally those whose tag, name, serial or model contains `query`. */
  assets(query = '', limit = 200): Value[] {
    const q = asciiLower(query.trim());
    const rows = this.db.all<{ value: string }>(
      `SELECT value FROM synced WHERE entity = 'asset' AND (? = '' OR instr(lower(
         coalesce(value ->> 'tag', '') || ' ' || coalesce(value ->> 'name', '') || ' ' ||
         coalesce(value ->> 'serial', '') || ' ' || coalesce(value ->> 'model', '')), ?) > 0)
       ORDER BY value ->> 'tag' LIMIT ?`,
      [q, q, limit],
    );
    return rows.map((r) => JSON.parse(r.value));
  }

  /** An asset (or a campaign's expected-list line) by its tag, from what this phone holds. */
  assetByTag(tag: string): Value | null {
    const row = this.db.get<{ entity: string; value: string }>(
      `SELECT entity, value FROM synced WHERE entity IN ('asset', 'stocktake_item') AND value ->> 'tag' = ?
        ORDER BY entity LIMIT 1`,
      [tag],
    );
    return row ? { ...JSON.parse(row.value), entity: row.entity } : null;
  }

  conflicts(customerId?: string): Value[] {
    const rows = customerId
      ? this.list('conflict', 'parent_id = ?', [customerId], () => false, 500)
      : this.list('conflict', '1', [], () => false, 500);
    return rows.reverse();
  }

  outbox(state?: 'pending' | 'rejected'): OutboxEntry[] {
    const rows = this.db.all<Value>(`SELECT * FROM outbox ${state ? 'WHERE state = ?' : ''} ORDER BY id`, state ? [state] : []);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      args: JSON.parse(r.args),
      hlc: r.hlc,
      createdAt: r.created_at,
      state: r.state,
      code: r.code,
      message: r.message,
      params: r.params ? JSON.parse(r.params) : null,
    }));
  }

  status(): SyncStatus {
    const p = this.db.get<{ n: number; oldest: number | null }>(
      "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE state = 'pending'",
    );
    const r = this.db.get<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE state = 'rejected'");
    const c = this.db.get<{ n: number }>("SELECT count(*) AS n FROM synced WHERE entity = 'conflict'");
    const photos = this.db.get<{ n: number }>('SELECT count(*) AS n FROM attachment WHERE uploaded_at IS NULL');
    const progress = this.meta('progress');
    const last = this.meta('lastSyncAt');
    return {
      clientId: this.clientId,
      pending: Number(p?.n ?? 0),
      oldestPendingAt: p?.oldest ?? null,
      rejected: Number(r?.n ?? 0),
      conflicts: Number(c?.n ?? 0),
      pendingPhotos: Number(photos?.n ?? 0),
      lastSyncAt: last ? Number(last) : null,
      lastError: this.meta('lastError'),
      progress: progress ? JSON.parse(progress) : null,
      stopped: this.meta('stopped'),
      updateRequired: this.meta('updateRequired') === '1',
    };
  }

  // ------------------------------------------------------------------ local changes

  /** Apply a change locally and queue it, in one transaction. */
  mutate(name: string, args: Value): OutboxEntry {
    const clientId = this.clientId;
    if (!clientId) throw new Error('not logged in');
    checkArgs(args);
    return this.db.tx(() => {
      const id = Number(this.meta('nextMutationId') ?? '1');
      const hlc = tick(this.meta('hlc'), this.now(), clientId);
      const createdAt = this.now();
      this.db.run('INSERT INTO outbox (id, name, args, hlc, created_at) VALUES (?, ?, ?, ?, ?)', [
        id,
        name,
        JSON.stringify(args),
        hlc,
        createdAt,
      ]);
      this.setMeta('nextMutationId', id + 1);
      this.setMeta('hlc', hlc);
      const [entity, rowId] = keyOf(name, args);
      this.writeOverlay(entity, rowId, applyMutation(this.view(entity, rowId), name, args));
      return { id, name, args, hlc, createdAt, state: 'pending' as const };
    }, true);
  }

  /** An update of some fields, carrying `base`: the row's version as last pulled. */
  update(entity: string, id: string, changes: Value): OutboxEntry {
    const base = Number(this.synced(entity, id)?.version ?? 0);
    return this.mutate(`${entity}.update`, { id, base, ...changes });
  }

  /** Send a rejected change again, as it was or fixed, as a new mutation. */
  resend(outboxId: number, args?: Value): OutboxEntry {
    return this.db.tx(() => {
      const [entry] = this.outbox().filter((e) => e.id === outboxId && e.state === 'rejected');
      if (!entry) throw new Error(`no rejected change ${outboxId}`);
      this.db.run('DELETE FROM outbox WHERE id = ?', [outboxId]);
      let fixed = args ?? entry.args;
      if (entry.name.endsWith('.update')) {
        const [entity, id] = keyOf(entry.name, fixed);
        fixed = { ...fixed, base: Number(this.synced(entity, id)?.version ?? 0) };
      }
      return this.mutate(entry.name, fixed);
    }, true);
  }

  /** Drop a rejected change the user decided not to send again. */
  discard(outboxId: number): void {
    this.db.run("DELETE FROM outbox WHERE id = ? AND state = 'rejected'", [outboxId]);
  }

  exportOutbox(): string {
    return JSON.stringify({ clientId: this.clientId, exportedAt: new Date(this.now()).toISOString(), changes: this.outbox() }, null, 2);
  }

  private writeOverlay(entity: string, id: string, value: Value | undefined): void {
    this.db.run(
      `INSERT INTO overlay (entity, id, value, sort_key, parent_id) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, sort_key = excluded.sort_key,
         parent_id = excluded.parent_id`,
      [entity, id, value ? JSON.stringify(value) : null, value ? sortKey(entity, value) : null, value ? parentOf(entity, value) : null],
    );
  }

  /** Rebuild the overlay: synced state with every still-pending mutation re-applied in order. */
  private rebase(): void {
    this.db.run('DELETE FROM overlay');
    for (const m of this.outbox('pending')) {
      const [entity, id] = keyOf(m.name, m.args);
      this.writeOverlay(entity, id, applyMutation(this.view(entity, id), m.name, m.args));
    }
  }

  // ------------------------------------------------------------------ sync

  private envelope(extra: Value): Value {
    return {
      protocolVersion: PROTOCOL.protocolVersion,
      schemaVersion: PROTOCOL.schemaVersion,
      clientId: this.clientId,
      ...extra,
    };
  }

  private refuse(reply: Reply): never {
    const code = reply.body?.error;
    if (reply.status === 401 && (code === 'device-revoked' || code === 'user-disabled')) {
      this.stop(code);
      throw new SyncStopped(code);
    }
    if (reply.status === 426) {
      this.setMeta('updateRequired', 1);
      throw new UpdateRequired();
    }
    throw new ServerRefused(reply.status, reply.body);
  }

  /** The server refused this device for good: stop syncing, clear synced rows, keep the outbox. */
  stop(code: string): void {
    this.db.tx(() => {
      this.clearSynced();
      this.setMeta('cookie', null);
      this.setMeta('progress', null);
      this.setMeta('stopped', code);
      this.rebase();
    });
  }

  /** Forget everything of the user who used this store: synced rows, changes not sent (the caller
   * has warned and offered their export), photos waiting to go up, and where syncing had got to. */
  forget(): void {
    this.db.tx(() => {
      this.clearSynced();
      for (const t of ['overlay', 'outbox', 'attachment']) this.db.run(`DELETE FROM ${t}`);
      for (const k of ['cookie', 'progress', 'lastSyncAt', 'lastError', 'stopped']) this.setMeta(k, null);
    });
  }

  /** Forget every synced row and its search entries (the index is recreated: faster than deleting). */
  clearSynced(): void {
    this.db.run('DELETE FROM synced');
    this.db.run('DELETE FROM fts_todo');
    this.db.run('DROP TABLE customer_fts');
    this.db.run(CUSTOMER_FTS);
  }

  /**
   * Bring the search index up to date for at most `limit` rows of the to-do list, in one
   * transaction; returns how many remain. Run after a sync, a chunk at a time, so the UI stays
   * responsive while a first sync's 30,000 customers are indexed.
   */
  indexSearch(limit = 2000): number {
    return this.db.tx(() => {
      const last = this.db.get<{ k: number }>('SELECT k FROM fts_todo ORDER BY k LIMIT 1 OFFSET ?', [limit - 1])?.k;
      const upTo = last ?? Number.MAX_SAFE_INTEGER;
      this.db.run(
        `INSERT OR REPLACE INTO customer_fts (rowid, text)
           SELECT s.k, ${searchTextSql('s')} FROM fts_todo t JOIN synced s ON s.k = t.k WHERE t.k <= ?`,
        [upTo],
      );
      this.db.run('DELETE FROM fts_todo WHERE k <= ?', [upTo]);
      return last === undefined ? 0 : this.searchBacklog();
    });
  }

  /** Send pending changes in order, in batches of at most `pushBatch` changes and
   * PROTOCOL.maxPushBytes bytes (one change always fits: its arguments are bounded far below). A
   * server with a smaller body limit answers 413: the batch is halved, down to one change, so a
   * queue of big changes never sticks. */
  async push(): Promise<void> {
    let sentUpTo = Number(this.meta('lastMutationId') ?? '0');
    let most = this.pushBatch;
    const utf8 = new TextEncoder();
    for (;;) {
      const batch: Value[] = [];
      let bytes = 256; // the envelope around the mutations
      for (const r of this.db.all<Value>("SELECT * FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?", [sentUpTo, most])) {
        const m = { clientId: this.clientId, id: r.id, name: r.name, args: JSON.parse(r.args), hlc: r.hlc };
        const size = utf8.encode(JSON.stringify(m)).length + 1;
        if (batch.length > 0 && bytes + size > PROTOCOL.maxPushBytes) break;
        batch.push(m);
        bytes += size;
      }
      if (batch.length === 0) return;
      const reply = await this.transport('/api/sync/push', this.envelope({ mutations: batch }));
      if (reply.status === 413 && batch.length > 1) {
        most = Math.max(1, Math.floor(batch.length / 2));
        continue;
      }
      if (reply.status !== 200) this.refuse(reply);
      sentUpTo = Math.max(sentUpTo, Number(reply.body.lastMutationId));
      most = this.pushBatch;
    }
  }

  async pull(onPage?: (done: number, total: number) => void): Promise<void> {
    // `from`: the cookie the page in flight was asked for; a page is applied only over that cookie
    let from = this.cookie;
    const ask = (cookie: string | null) => this.transport('/api/sync/pull', this.envelope({ cookie }));
    let next = ask(from);
    for (;;) {
      const reply = await next;
      if (reply.status === 409 && reply.body?.error === 'reset-required') {
        this.setMeta('cookie', null);
        from = null;
        next = ask(null);
        continue;
      }
      if (reply.status !== 200) this.refuse(reply);
      const page = reply.body as PullPage;
      // Ask for the following page before writing this one: the server builds it while we write.
      // Its cookie is only stored with the page it belongs to, so a failure here loses nothing.
      if (page.more) next = ask(page.cookie);
      let applied: boolean;
      try {
        applied = this.applyPage(page, from);
      } catch (e) {
        if (page.more) next.catch(() => undefined); // abandoned: not an unhandled rejection
        throw e;
      }
      if (!applied) {
        // Another pull moved the cookie on meanwhile: this answer is older than what is stored.
        if (page.more) next.catch(() => undefined);
        return;
      }
      from = page.cookie;
      onPage?.(page.progress.done, page.progress.total);
      if (!page.more) return;
    }
  }

  /** One page and its cookie, applied in one local transaction. The last page of a pull also
   * records the sync as successful, in the same transaction (a commit on OPFS is not free).
   * With `from` (the cookie the page was asked for), the page is applied only if that is still the
   * stored cookie, checked in the same transaction, so the cookie and the rows never go backwards
   * whatever order answers arrive in; returns whether it was applied. */
  applyPage(page: PullPage, from?: string | null): boolean {
    const clientId = this.clientId;
    const applied = this.db.tx(() => {
      if (from !== undefined && this.cookie !== from) return false;
      let run: unknown[] = [];
      const putRows = (ops: string | Uint8Array) => {
        const top = Number(this.db.get<{ k: number | null }>('SELECT max(k) AS k FROM synced')?.k ?? 0);
        this.db.run(PUT_ROWS, [ops]);
        this.db.run(NEW_CUSTOMERS_TO_INDEX, [top]);
      };
      const flush = () => {
        if (run.length) putRows(JSON.stringify(run));
        run = [];
      };
      for (const op of page.patch) {
        if (op.op === 'clear') {
          run = [];
          this.clearSynced();
          if (page.more) {
            // A first sync: the list indexes are built once at its end, and the WAL is copied into
            // the database after it (the worker does it when idle), not in the middle of a page.
            for (const sql of DROP_LIST_INDEXES) this.db.run(sql);
            this.db.run('PRAGMA wal_autocheckpoint = 0');
            this.checkpointDue = true;
          }
        } else if (op.op === 'put') {
          run.push(op);
        } else {
          flush();
          if (op.entity === 'customer') {
            const key = "(SELECT k FROM synced WHERE entity = 'customer' AND id = ?)";
            this.db.run(`DELETE FROM customer_fts WHERE rowid = ${key}`, [op.id]);
            this.db.run(`DELETE FROM fts_todo WHERE k = ${key}`, [op.id]);
          }
          this.db.run('DELETE FROM synced WHERE entity = ? AND id = ?', [op.entity, op.id]);
        }
      }
      flush();
      if (page.puts) putRows(page.puts);
      const lmid = Number((clientId && page.lastMutationIds[clientId]) ?? 0);
      const confirmed = Math.max(lmid, Number(this.meta('lastMutationId') ?? '0'));
      const rejections = new Map(page.rejections.filter((r) => r.clientId === clientId).map((r) => [r.mutationId, r]));
      for (const [mid, r] of rejections) {
        this.db.run("UPDATE outbox SET state = 'rejected', code = ?, message = ?, params = ? WHERE id = ? AND state = 'pending'", [
          r.code,
          r.message,
          JSON.stringify(r.params ?? {}),
          mid,
        ]);
      }
      this.db.run("DELETE FROM outbox WHERE state = 'pending' AND id <= ?", [confirmed]);
      this.setMeta('lastMutationId', confirmed);
      this.setMeta('cookie', page.cookie);
      this.setMeta('progress', page.more ? JSON.stringify(page.progress) : null);
      if (!page.more) {
        for (const sql of LIST_INDEXES) this.db.run(sql); // after a first sync: built now, in one go
        this.setMeta('lastSyncAt', this.now());
        this.setMeta('lastError', null);
      }
      this.rebase();
      return true;
    });
    // After the commit: set inside the transaction, that very commit would do the copying.
    if (applied && !page.more) this.db.run(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
    return applied;
  }

  /** Push what is pending, then pull until up to date. */
  async sync(onPage?: (done: number, total: number) => void): Promise<void> {
    if (this.meta('stopped')) throw new SyncStopped(this.meta('stopped') as string);
    try {
      await this.push();
      await this.pull(onPage); // its last page records lastSyncAt
    } catch (e) {
      this.setMeta('lastError', e instanceof Error ? e.message : String(e));
      throw e;
    }
  }
}
