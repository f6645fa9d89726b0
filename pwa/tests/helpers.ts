import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { type Db, type Oo1Db, wrap } from '../src/store/db';
import { migrate } from '../src/store/schema';
import { type Reply, SyncEngine, type Value } from '../src/sync/engine';

let sqlite3: Awaited<ReturnType<typeof sqlite3InitModule>> | undefined;

/** A fresh in-memory SQLite-WASM database with the on-device schema. */
export async function memDb(): Promise<Db> {
  sqlite3 ??= await sqlite3InitModule();
  const db = wrap(new sqlite3.oo1.DB(':memory:') as unknown as Oo1Db);
  migrate(db);
  return db;
}

/** A scripted server: each call pops the next reply; requests are recorded. */
export function scripted(replies: Array<Reply | ((body: Value) => Reply)>) {
  const requests: Array<{ path: string; body: Value }> = [];
  const transport = async (path: string, body: unknown): Promise<Reply> => {
    requests.push({ path, body: body as Value });
    const next = replies.shift();
    if (!next) throw new Error(`unexpected request ${path}`);
    return typeof next === 'function' ? next(body as Value) : next;
  };
  return { transport, requests };
}

export async function engine(replies: Array<Reply | ((body: Value) => Reply)> = [], clientId = 'dev-1') {
  const db = await memDb();
  const server = scripted(replies);
  let clock = 1_700_000_000_000;
  const e = new SyncEngine(db, server.transport, { now: () => (clock += 1) });
  e.adoptClient(clientId);
  return { db, e, server };
}

export function page(over: Partial<Value> = {}): Value {
  return {
    cookie: 'c1',
    lastMutationIds: {},
    patch: [],
    rejections: [],
    more: false,
    progress: { done: 0, total: 0 },
    ...over,
  };
}

export const ok = (body: Value): Reply => ({ status: 200, body });
