/// <reference lib="webworker" />
// The store worker: owns the on-device SQLite database (OPFS, opfs-sahpool VFS, one connection),
// runs the sync engine, and answers the UI over postMessage. One tab owns the store (Web Locks);
// another tab is told so and may take over.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { SyncEngine, type Value } from '../sync/engine';
import { Scheduler } from '../sync/scheduler';
import { LoginRequired, NetworkError, Session } from '../sync/session';
import { type Db, type Oo1Db, StorageFullError, wrap } from './db';
import { ensureIndexes, migrate, WAL_AUTOCHECKPOINT } from './schema';

declare const self: DedicatedWorkerGlobalScope;

let db: Db | undefined;
let engine: SyncEngine | undefined;
let session: Session | undefined;
let scheduler: Scheduler | undefined;
let events: EventSource | undefined;
let persistent = true;
let pool: { pauseVfs: () => unknown } | undefined;
// Online is two things: the browser has a network (its online/offline events), and the last request
// reached the server. Only the first stops a sync from being tried: after a failed request the timer
// keeps trying (with backoff), so a server that was down or a signal too weak to carry a request is
// retried without waiting for an event that may never come.
let browserOnline = true;
let reachable = true;
let syncing = false;

/** Tell the UI the store changed; `rows: false` when only the status did, so views need not re-read
 * their rows (a list query at the start of every sync competed with the sync for this worker). */
function notify(extra: Value = {}, rows = true): void {
  self.postMessage({ event: 'changed', status: status(), rows, ...extra });
}

function status(): Value {
  if (!engine) return { ready: false };
  return {
    ready: true,
    ...engine.status(),
    user: session?.user ?? null,
    online: browserOnline && reachable,
    syncing,
    persistent,
    loginRequired: engine.meta('loginRequired'),
  };
}

async function openStore(): Promise<void> {
  const sqlite3 = await sqlite3InitModule();
  let raw: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      // forceReinitIfPreviouslyFailed: retry after another tab has released the files.
      const options = { name: 'outpost-pool', initialCapacity: 6, forceReinitIfPreviouslyFailed: true };
      const util = await sqlite3.installOpfsSAHPoolVfs(options as Parameters<typeof sqlite3.installOpfsSAHPoolVfs>[0]);
      pool = util;
      raw = new util.OpfsSAHPoolDb('/outpost.sqlite3');
      break;
    } catch (e) {
      // Another tab may still be letting go of the files after a take-over; OPFS may be missing.
      if (attempt < 20 && typeof navigator.storage?.getDirectory === 'function') {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      persistent = false;
      raw = new sqlite3.oo1.DB(':memory:');
      console.warn('OPFS unavailable, keeping data in memory only', e);
      break;
    }
  }
  db = wrap(raw as Oo1Db);
  // One connection owns the file (Web Locks): exclusive locking keeps the page cache warm between
  // transactions and lets SQLite keep the WAL index in memory (OPFS has no shared memory), so WAL
  // works: a commit appends the changed pages instead of first copying the old ones to a journal -
  // measured in Chromium, a 100-row change committed in 8-18 ms instead of 15-47. NORMAL: a commit
  // is not synced to disk, which is fine for pulled rows (a power cut rolls page and cookie back
  // together, and they are pulled again); the outbox's transactions are `durable` (FULL), so what
  // the user typed survives a power cut, not only an app crash.
  db.run('PRAGMA locking_mode = EXCLUSIVE');
  db.run('PRAGMA journal_mode = WAL');
  db.run('PRAGMA synchronous = NORMAL');
  // Checkpoint (copy the WAL into the database) after more pages than SQLite's default, so big syncs
  // are not stopped often to do it (a first sync not at all); the rest is done when a sync is over.
  db.run(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
  db.run('PRAGMA cache_size = -32000');
  db.run('PRAGMA temp_store = MEMORY');
  migrate(db);
  ensureIndexes(db);
  engine = new SyncEngine(db, (p, b) => (session as Session).transport(p, b));
  session = new Session(engine);
  scheduler = new Scheduler(runSync);
  void indexSearch(); // what an earlier session left unindexed
}

let indexing = false;
/** Catch the search index up after a sync, a chunk per transaction, yielding to the UI's requests
 * in between (search is exact meanwhile: it scans what is not indexed yet); then copy the WAL into
 * the database (after a first sync, which does not do it on the way, that is tens of MB). */
async function indexSearch(): Promise<void> {
  if (indexing || !engine || (!engine.searchBacklog() && !engine.checkpointDue)) return;
  indexing = true;
  try {
    while (engine && engine.indexSearch(2000) > 0) await new Promise((r) => setTimeout(r, 0));
    db?.run('PRAGMA wal_checkpoint(PASSIVE)');
    if (engine) engine.checkpointDue = false;
  } catch (e) {
    if (e instanceof StorageFullError) engine?.setMeta('lastError', 'storage-full');
    else console.warn('search index', e);
  } finally {
    indexing = false;
  }
}

let running: Promise<void> | undefined;
/** One sync at a time: "sync now" during a scheduled sync waits for it, then syncs again (two pulls
 * from the same cookie at once could store their pages' cookies out of order). */
async function runSync(force = false): Promise<void> {
  while (running) await running.catch(() => undefined);
  running = syncOnce(force);
  try {
    await running;
  } finally {
    running = undefined;
  }
}

/** `force`: the user asked ("sync now"), so try even if the browser says it is offline. */
async function syncOnce(force: boolean): Promise<void> {
  if (!engine || !session?.user || engine.meta('stopped') || engine.meta('loginRequired')) return;
  if (!browserOnline && !force) return;
  syncing = true;
  notify({}, false);
  try {
    // Progress only: the screens read their rows once the pages are in (re-reading a list after
    // every page of a first sync cost the worker as much as a fifth of the sync).
    await engine.sync((done, total) => notify({ progress: { done, total } }, false));
    reachable = true;
    await uploadPhotos(engine, session);
    setTimeout(indexSearch, 0);
    connectEvents();
  } catch (e) {
    if (e instanceof NetworkError) reachable = false;
    if (e instanceof StorageFullError) engine.setMeta('lastError', 'storage-full');
    if (!(e instanceof LoginRequired)) throw e;
  } finally {
    syncing = false;
    notify();
  }
}

/** Send the photos the server does not have, after the mutations that name them (apart from the
 * outbox: a photo never holds a scan back). One that fails stays for the next sync. */
async function uploadPhotos(e: SyncEngine, s: Session): Promise<void> {
  for (const a of e.pendingAttachments()) {
    const reply = await s.upload(`/api/attachments/${a.sha256}`, a.bytes, a.type);
    if (reply.status === 200 || reply.status === 201) e.attachmentUploaded(a.sha256);
    else if (reply.status >= 500 || reply.status === 401)
      return; // try again later
    // Refused (e.g. the user's photo quota is used up): the photo stays on the phone, and the sync
    // panel says why until a later sync gets through.
    else e.setMeta('lastError', String(reply.body?.detail ?? `photo refused (${reply.status})`));
    notify({}, false);
  }
}

async function connectEvents(): Promise<void> {
  if (events || !session || typeof EventSource === 'undefined') return;
  const reply = await session.request('/api/sync/ticket', {});
  if (reply.status !== 200) return;
  const es = new EventSource(`/api/sync/events?ticket=${encodeURIComponent(reply.body.ticket)}`);
  events = es;
  es.addEventListener('poke', () => scheduler?.kick(100));
  // The server ended the stream: this device's session ended (revoked, disabled, signed out). A sync
  // now meets the typed refusal and stops as it says.
  es.addEventListener('ended', () => {
    es.close();
    if (events === es) events = undefined;
    scheduler?.kick(0);
  });
  es.onerror = () => {
    es.close();
    if (events === es) events = undefined;
  };
}

/** A change made on this phone. When storage is full the screen that made it says so and keeps
 * what was typed; the sync panel is told too (if even that small write fits). */
function local<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StorageFullError) {
      try {
        engine?.setMeta('lastError', 'storage-full');
      } catch {
        // no room even for that: the screen's message stands
      }
      notify({}, false);
    }
    throw e;
  }
}

const handlers: Record<string, (...args: never[]) => unknown> = {
  status: () => status(),
  async login(username: string, password: string, deviceName: string, discard: boolean, replaceDeviceId?: string) {
    const reply = await (session as Session).login(username, password, deviceName, discard, replaceDeviceId);
    if (reply.status === 200) {
      reachable = true;
      scheduler?.kick();
    }
    notify();
    return reply;
  },
  /** After the device was revoked or the account disabled (and enabled again): back to the login
   * screen as the same user, keeping the changes not sent, which go once they sign in. */
  signInAgain() {
    const e = engine as SyncEngine;
    e.setMeta('loginRequired', e.meta('stopped') ?? 'sign-in-again');
    for (const k of ['accessToken', 'refreshToken']) e.setMeta(k, null);
    notify({}, false);
  },
  async logout(wipe: boolean) {
    events?.close();
    events = undefined;
    await (session as Session).logout();
    if (wipe) (engine as SyncEngine).forget();
    notify();
  },
  customers: (q: string, limit: number) => (engine as SyncEngine).customers(q, limit),
  customerCount: () => (engine as SyncEngine).customerCount(),
  searchBacklog: () => (engine as SyncEngine).searchBacklog(),
  customer: (id: string) => (engine as SyncEngine).view('customer', id, true) ?? null,
  contacts: (customerId: string) => (engine as SyncEngine).contacts(customerId),
  contact: (id: string) => (engine as SyncEngine).view('contact', id, true) ?? null,
  conflicts: (customerId?: string) => (engine as SyncEngine).conflicts(customerId),
  stocktakes: () => (engine as SyncEngine).stocktakes(),
  stocktake: (id: string) => (engine as SyncEngine).view('stocktake', id, true) ?? null,
  stocktakeItems: (id: string) => (engine as SyncEngine).stocktakeItems(id),
  stocktakeScans: (id: string) => (engine as SyncEngine).stocktakeScans(id),
  assetByTag: (tag: string) => (engine as SyncEngine).assetByTag(tag),
  assets: (q: string, limit: number) => (engine as SyncEngine).assets(q, limit),
  /** Keep a photo (as a JPEG/PNG/WebP file's bytes) until uploaded; its SHA-256 names it. */
  async attachPhoto(bytes: ArrayBuffer, type: string) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const sha256 = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    local(() => (engine as SyncEngine).addAttachment(sha256, type, new Uint8Array(bytes)));
    notify({}, false);
    return sha256;
  },
  outbox: () => (engine as SyncEngine).outbox(),
  exportOutbox: () => (engine as SyncEngine).exportOutbox(),
  mutate(name: string, args: Value) {
    const m = local(() => (engine as SyncEngine).mutate(name, args));
    notify();
    scheduler?.kick(300);
    return m;
  },
  update(entity: string, id: string, changes: Value) {
    const m = local(() => (engine as SyncEngine).update(entity, id, changes));
    notify();
    scheduler?.kick(300);
    return m;
  },
  resend(id: number, args?: Value) {
    const m = local(() => (engine as SyncEngine).resend(id, args));
    notify();
    scheduler?.kick(100);
    return m;
  },
  discard(id: number) {
    (engine as SyncEngine).discard(id);
    notify();
  },
  async syncNow() {
    await runSync(true);
    return status();
  },
  setOnline(value: boolean) {
    browserOnline = value;
    if (value) {
      reachable = true; // worth a try at once
      scheduler?.kick();
    }
    notify({}, false);
  },
  foreground() {
    scheduler?.kick();
  },
  async request(path: string, body?: unknown, method?: string) {
    return (session as Session).request(path, body, method);
  },
};

self.onmessage = async (ev: MessageEvent) => {
  if (ev.data?.control === 'start') return void start(false);
  if (ev.data?.control === 'take-over') return void start(true);
  const { id, method, args } = ev.data as { id: number; method: string; args: never[] };
  try {
    const fn = handlers[method];
    if (!fn) throw new Error(`unknown method ${method}`);
    const result = await fn(...args);
    self.postMessage({ id, result });
  } catch (e) {
    const err = e as Error & { code?: string };
    self.postMessage({ id, error: { name: err.name, message: err.message, code: err.code } });
  }
};

async function start(steal: boolean): Promise<void> {
  if (!navigator.locks) {
    await openStore();
    self.postMessage({ event: 'ready', status: status() });
    scheduler?.kick();
    return;
  }
  await navigator.locks
    .request('outpost-store', { ifAvailable: !steal, steal }, async (lock) => {
      if (!lock) {
        self.postMessage({ event: 'locked' });
        return;
      }
      await openStore();
      self.postMessage({ event: 'ready', status: status() });
      scheduler?.kick();
      await new Promise<void>(() => {
        // held for the life of this tab; a take-over by another tab aborts it
      });
    })
    .catch(() => {
      // Another tab took over: let go of the database so it can open it.
      scheduler?.stop();
      events?.close();
      db?.close();
      pool?.pauseVfs(); // release the OPFS access handles so the other tab can open them
      db = undefined;
      engine = undefined;
      self.postMessage({ event: 'taken-over' });
    });
}
