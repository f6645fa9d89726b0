import { describe, expect, it } from 'vitest';
import { PROTOCOL } from '../src/protocol.gen';
import { StorageFullError } from '../src/store/db';
import {
  applyMutation,
  ChangeTooLarge,
  type PullPage,
  type Reply,
  ServerRefused,
  SyncEngine,
  SyncStopped,
  type Value,
} from '../src/sync/engine';
import { pullLines } from '../src/sync/session';
import { engine, memDb, ok, page } from './helpers';

const C1 = { id: 'c1', name: 'Old Name', phone: '13900000000', status: 'active', tags: [], version: 3 };

describe('local changes', () => {
  it('applies a change optimistically and queues it in the same transaction', async () => {
    const { db, e } = await engine();
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    const m = e.update('customer', 'c1', { name: 'New Name' });
    expect(m.args).toEqual({ id: 'c1', base: 3, name: 'New Name' });
    expect(e.view('customer', 'c1')?.name).toBe('New Name');
    expect(e.synced('customer', 'c1')?.name).toBe('Old Name');
    expect(e.outbox('pending').map((x) => x.id)).toEqual([1]);
    // Make the outbox write fail: the optimistic change must not be left behind without it.
    db.run("CREATE TRIGGER no_more BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    expect(() => e.update('customer', 'c1', { name: 'Lost?' })).toThrow(/disk says no/);
    expect(e.view('customer', 'c1')?.name).toBe('New Name');
    expect(e.outbox().length).toBe(1);
    expect(e.meta('nextMutationId')).toBe('2');
  });

  it('out of storage: a change is refused whole, as StorageFullError, and nothing is half-written', async () => {
    const { db, e } = await engine();
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    e.update('customer', 'c1', { name: 'Fits' });
    const { page_count } = db.get<{ page_count: number }>('PRAGMA page_count') as { page_count: number };
    db.run(`PRAGMA max_page_count = ${page_count}`); // the database may not grow any more
    expect(() => e.update('customer', 'c1', { address: '长'.repeat(20_000) })).toThrow(StorageFullError);
    expect(() => e.mutate('customer.create', { id: 'n1', name: 'N'.repeat(20_000) })).toThrow(StorageFullError);
    expect(e.view('customer', 'c1')?.name).toBe('Fits');
    expect(e.view('customer', 'c1')?.address).toBeUndefined();
    expect(e.view('customer', 'n1')).toBeUndefined();
    expect(e.outbox().map((m) => m.id)).toEqual([1]);
    expect(e.meta('nextMutationId')).toBe('2');
    db.run('PRAGMA max_page_count = 1073741823'); // space freed: the same change goes through
    expect(e.update('customer', 'c1', { address: '长'.repeat(20_000) }).id).toBe(2);
  });

  it('a change bigger or deeper than the server takes is refused before it is queued, saying which', async () => {
    const { e } = await engine();
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    const tooBig = '长'.repeat(Math.ceil(PROTOCOL.maxArgsBytes / 3) + 1); // 3 bytes each in UTF-8
    const big = (() => {
      try {
        e.update('customer', 'c1', { address: tooBig });
      } catch (err) {
        return err as ChangeTooLarge;
      }
    })();
    expect(big).toBeInstanceOf(ChangeTooLarge);
    expect(big?.code).toBe('args-too-large');
    let nested: Value = { leaf: 'x' };
    for (let i = 0; i < PROTOCOL.maxArgsDepth; i++) nested = { n: nested };
    expect(() => e.mutate('customer.create', { id: 'n1', name: 'N', tags: [nested] })).toThrow(/nested more than/);
    // Deeper than any recursion could go: still a clear refusal, not a crash.
    let deep: Value = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(() => e.mutate('customer.create', { id: 'n2', name: 'N', x: deep })).toThrow(ChangeTooLarge);
    expect(e.outbox()).toEqual([]);
    expect(e.meta('nextMutationId') ?? '1').toBe('1');
    expect(e.view('customer', 'c1')?.address).toBeUndefined();
    expect(e.view('customer', 'n1')).toBeUndefined();
    // Just under the bounds goes through.
    expect(e.update('customer', 'c1', { address: '长'.repeat(20_000) }).id).toBe(1);
  });

  it('allocates mutation ids without gaps and stamps increasing HLCs', async () => {
    const { e } = await engine();
    const ids = [];
    const stamps = [];
    for (let i = 0; i < 5; i++) {
      const m = e.mutate('customer.create', { id: `n${i}`, name: `N${i}` });
      ids.push(m.id);
      stamps.push(m.hlc);
    }
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(5);
  });

  it('finds customers by Chinese and English text, including pending ones', async () => {
    const { e } = await engine();
    e.applyPage(
      page({
        patch: [
          {
            op: 'put',
            entity: 'customer',
            id: 'a',
            value: { id: 'a', name: '广州科技有限公司', phone: '13800000001', tags: ['VIP'], version: 1 },
          },
          {
            op: 'put',
            entity: 'customer',
            id: 'b',
            value: { id: 'b', name: 'Pearl River Hotel', phone: '13800000002', tags: [], version: 1 },
          },
        ],
      }) as never,
    );
    e.mutate('customer.create', { id: 'c', name: '深圳科技集团' });
    const names = (q: string) =>
      e
        .customers(q)
        .map((c) => c.name)
        .sort();
    expect(names('科技')).toEqual(['广州科技有限公司', '深圳科技集团']);
    expect(names('有限公司')).toEqual(['广州科技有限公司']);
    expect(names('river')).toEqual(['Pearl River Hotel']);
    expect(names('0002')).toEqual(['Pearl River Hotel']);
    expect(names('VIP')).toEqual(['广州科技有限公司']);
    expect(names('')).toEqual(['Pearl River Hotel', '广州科技有限公司', '深圳科技集团']);
    e.update('customer', 'b', { name: 'Golden Hotel' });
    expect(names('river')).toEqual([]);
    expect(names('golden')).toEqual(['Golden Hotel']);
  });

  it('searches exactly while the index catches up: new, changed and removed rows, typed wildcards', async () => {
    const { e } = await engine();
    const put = (id: string, name: string) => ({ op: 'put', entity: 'customer', id, value: { id, name, tags: [], version: 1 } });
    const ids = (q: string) =>
      e
        .customers(q)
        .map((c) => c.id)
        .sort();
    const check = () => {
      expect(ids('珠江酒店')).toEqual(['a']);
      expect(ids('50%')).toEqual(['b']); // '%' is literal, not "anything"
      expect(ids('a_c')).toEqual(['c']); // '_' too: 'abc' does not match
      expect(ids('old name')).toEqual([]);
      expect(ids('abc')).toEqual(['d']);
    };
    e.applyPage(
      page({
        patch: [put('a', 'old name'), put('b', '50% off shop'), put('c', 'a_c hotel'), put('d', 'abc'), put('x', 'gone soon')],
      }) as never,
    );
    expect(e.indexSearch(2)).toBe(3); // two indexed, three to go
    e.applyPage(page({ patch: [put('a', '珠江酒店 Pearl'), { op: 'del', entity: 'customer', id: 'x' }] }) as never);
    check(); // 'a' changed after it was indexed: its old text must not match
    expect(ids('gone')).toEqual([]);
    expect(e.indexSearch(2)).toBe(1);
    check();
    expect(e.indexSearch()).toBe(0);
    check();
    expect(ids('gone')).toEqual([]);
    expect(ids('PEARL')).toEqual(['a']);
    // a first sync starts with `clear`: the old rows and their index entries go
    e.applyPage(page({ patch: [{ op: 'clear' }, put('n', 'new pearl')] }) as never);
    expect(ids('pearl')).toEqual(['n']);
    expect(e.indexSearch()).toBe(0);
    expect(ids('pearl')).toEqual(['n']);
  });

  it('builds the list indexes once at the end of a first sync, and lists stay right meanwhile', async () => {
    const { db, e } = await engine();
    const indexes = () =>
      db
        .all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'synced' AND sql IS NOT NULL")
        .map((r) => r.name)
        .sort();
    const put = (id: string, name: string, entity = 'customer', customerId?: string) => ({
      op: 'put',
      entity,
      id,
      value: { id, name, customerId, version: 1 },
    });
    expect(indexes()).toEqual(['synced_key', 'synced_parent', 'synced_sort']);
    e.applyPage(page({ more: true, patch: [{ op: 'clear' }, put('b', 'Beta'), put('a', 'Alpha')] }) as never);
    expect(indexes()).toEqual(['synced_key']);
    e.applyPage(page({ more: true, patch: [put('k', 'Kim', 'contact', 'a')] }) as never);
    expect(e.customers().map((c) => c.name)).toEqual(['Alpha', 'Beta']);
    expect(e.contacts('a').map((c) => c.name)).toEqual(['Kim']);
    e.applyPage(page({ patch: [put('c', 'Gamma')] }) as never);
    expect(indexes()).toEqual(['synced_key', 'synced_parent', 'synced_sort']);
    expect(e.customers().map((c) => c.name)).toEqual(['Alpha', 'Beta', 'Gamma']);
  });

  it("lists a parent's rows through the parent index, not by walking the whole list", async () => {
    const { db, e } = await engine();
    const patch = [];
    for (let i = 0; i < 300; i++) {
      patch.push({ op: 'put', entity: 'customer', id: `c${i}`, value: { id: `c${i}`, name: `Customer ${i}`, version: 1 } });
      for (const n of ['Zhang', 'Li'])
        patch.push({ op: 'put', entity: 'contact', id: `k${i}${n}`, value: { id: `k${i}${n}`, name: n, customerId: `c${i}`, version: 1 } });
    }
    e.applyPage(page({ patch }) as never);
    const plan = (sql: string, bind: unknown[]) =>
      db
        .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, bind)
        .map((r) => r.detail)
        .join('; ');
    const listed = 'SELECT id FROM synced WHERE entity = ? AND (parent_id = ?) ORDER BY sort_key LIMIT ?';
    expect(plan(listed, ['contact', 'c7', 500])).toMatch(/USING INDEX synced_parent \(entity=\? AND parent_id=\?\)/);
    expect(plan(listed, ['contact', 'c7', 500])).not.toMatch(/TEMP B-TREE/);
    expect(e.contacts('c7').map((c) => c.name)).toEqual(['Li', 'Zhang']);
  });

  it('finds a common word by walking the list in order, as exactly as through the index', async () => {
    const { e } = await engine();
    const patch = Array.from({ length: 1500 }, (_, i) => {
      const id = `s${String(i).padStart(4, '0')}`;
      return { op: 'put', entity: 'customer', id, value: { id, name: `Shop ${id}${i % 3 ? '' : ' 50% off'}`, tags: [], version: 1 } };
    });
    e.applyPage(page({ patch }) as never);
    e.mutate('customer.create', { id: 'new', name: 'A new shop' }); // pending: first in order
    const names = (q: string, limit = 5) => e.customers(q, limit).map((c) => c.name);
    for (const indexed of [false, true]) {
      if (indexed) expect(e.indexSearch(10_000)).toBe(0);
      expect(names('shop')).toEqual(['A new shop', 'Shop s0000 50% off', 'Shop s0001', 'Shop s0002', 'Shop s0003 50% off']);
      expect(names('50% OFF', 3)).toEqual(['Shop s0000 50% off', 'Shop s0003 50% off', 'Shop s0006 50% off']);
      expect(names('s0_01')).toEqual([]); // '_' is a character, not a wildcard
      expect(names('s1499')).toEqual(['Shop s1499']);
    }
  });
});

describe('two-line pull answers', () => {
  const lines = (p: Value) => {
    const { patch, ...rest } = p;
    const puts = patch.filter((op: Value) => op.op === 'put');
    const text = `${JSON.stringify({ ...rest, patch: patch.filter((op: Value) => op.op !== 'put') })}\n${JSON.stringify(puts)}`;
    return pullLines(new TextEncoder().encode(text)) as PullPage;
  };
  const odd = 'Quote " back\\slash \u2028 line\nbreak 🚀 广州';

  it('reads the envelope and keeps the put ops as bytes; anything else is a bad reply', () => {
    const got = lines(
      page({
        cookie: 'c9',
        more: true,
        patch: [{ op: 'clear' }, { op: 'put', entity: 'customer', id: 'a', value: { id: 'a', name: odd } }],
      }),
    );
    expect(got.cookie).toBe('c9');
    expect(got.patch).toEqual([{ op: 'clear' }]);
    expect(JSON.parse(new TextDecoder().decode(got.puts))).toEqual([
      { op: 'put', entity: 'customer', id: 'a', value: { id: 'a', name: odd } },
    ]);
    expect(pullLines(new TextEncoder().encode('{"cookie": "c1"}'))).toMatchObject({ error: 'bad-reply' });
    expect(pullLines(new TextEncoder().encode('{"cookie": \n[]'))).toMatchObject({ error: 'bad-reply' });
  });

  it('stores exactly what the same pages as JSON store: rows, list order, parents, search', async () => {
    const customer = (id: string, name: string, tags: string[] = []) => ({
      op: 'put',
      entity: 'customer',
      id,
      value: { id, name, phone: '13800000000', tags, version: 1 },
    });
    const contact = (id: string, customerId: string) => ({
      op: 'put',
      entity: 'contact',
      id,
      value: { id, name: `Kim ${id}`, customerId, version: 1 },
    });
    const pages = [
      page({
        cookie: 'c1',
        more: true,
        progress: { done: 4, total: 6 },
        patch: [{ op: 'clear' }, customer('a', odd, ['VIP']), customer('b', 'Beta'), customer('n', 'Nameless'), contact('k', 'a')],
      }),
      page({ cookie: 'c2', progress: { done: 6, total: 6 }, patch: [customer('c', 'gamma 酒店'), contact('l', 'b')] }),
      page({
        cookie: 'c3',
        patch: [
          customer('b', 'Beta Two'),
          { op: 'del', entity: 'customer', id: 'n' },
          { op: 'del', entity: 'contact', id: 'k' },
          contact('m', 'c'),
        ],
      }),
    ];
    (pages[0].patch[3].value as Value).name = 7; // a name that is not text sorts nowhere, in both
    const json = await engine();
    const split = await engine();
    const state = (db: typeof json.db) => ({
      rows: db.all('SELECT entity, id, value, sort_key, parent_id FROM synced ORDER BY entity, id'),
      todo: db.all('SELECT s.id FROM fts_todo t JOIN synced s USING (k) ORDER BY s.id'),
    });
    for (const p of pages) {
      json.e.applyPage(p as never);
      split.e.applyPage(lines(p));
      expect(state(split.db)).toEqual(state(json.db));
      expect(split.e.cookie).toBe(p.cookie);
    }
    expect(state(split.db).rows.map((r) => `${r.entity}:${r.id}`)).toEqual([
      'contact:l',
      'contact:m',
      'customer:a',
      'customer:b',
      'customer:c',
    ]);
    expect(split.e.indexSearch()).toBe(0);
    expect(split.e.customers('酒店').map((c) => c.id)).toEqual(['c']);
    expect(split.e.customers('line').map((c) => c.name)).toEqual([odd]);
    expect(split.e.contacts('c').map((c) => c.id)).toEqual(['m']);
  });

  it('sorts by a name only when it is text, lower-cased in ASCII only, as the overlay does', async () => {
    const { db, e } = await engine();
    const names: Record<string, unknown> = { s: 'Beta Ä', n: 7, o: { a: 1 }, a: ['x'], z: null };
    const patch = Object.entries(names).map(([id, name]) => ({ op: 'put', entity: 'customer', id, value: { id, name, version: 1 } }));
    patch.push({ op: 'put', entity: 'customer', id: 'u', value: { id: 'u', version: 1 } as never });
    e.applyPage(lines(page({ patch })));
    const keys = Object.fromEntries(
      db.all<{ id: string; sort_key: string | null }>('SELECT id, sort_key FROM synced').map((r) => [r.id, r.sort_key]),
    );
    expect(keys).toEqual({ s: 'beta Ä', n: null, o: null, a: null, z: null, u: null });
    for (const id of Object.keys(keys)) e.update('customer', id, { phone: '13800000000' }); // the overlay's key, computed in JS
    const overlay = Object.fromEntries(
      db.all<{ id: string; sort_key: string | null }>('SELECT id, sort_key FROM overlay').map((r) => [r.id, r.sort_key]),
    );
    expect(overlay).toEqual(keys);
  });

  it('leaves copying the WAL into the database until a first sync is over', async () => {
    const { db, e } = await engine();
    const every = () => db.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')?.wal_autocheckpoint;
    const put = { op: 'put', entity: 'customer', id: 'a', value: { id: 'a', name: 'A', version: 1 } };
    db.run('PRAGMA wal_autocheckpoint = 4000');
    expect(e.checkpointDue).toBe(false);
    e.applyPage(page({ more: true, patch: [{ op: 'clear' }, put] }) as never);
    expect(every()).toBe(0);
    expect(e.checkpointDue).toBe(true); // the worker copies the WAL when idle, then clears this
    e.applyPage(page({ more: true, patch: [] }) as never);
    expect(every()).toBe(0);
    e.applyPage(page({ patch: [] }) as never);
    expect(every()).toBe(4000);
  });
});

describe('push and pull', () => {
  it('a queue of big changes goes in batches that fit, and a 413 halves the batch until it does', async () => {
    const bodyLimit = 300_000; // a server whose body limit is smaller than maxPushBytes
    let seen = 0;
    const server = (body: Value): Reply => {
      const size = new TextEncoder().encode(JSON.stringify(body)).length;
      if (size > bodyLimit) return { status: 413, body: { error: 'payload-too-large', detail: 'too large' } };
      expect(size).toBeLessThanOrEqual(PROTOCOL.maxPushBytes);
      seen = Math.max(seen, ...body.mutations.map((m: { id: number }) => m.id));
      return ok({ ok: true, lastMutationId: seen });
    };
    const { e, server: s } = await engine(Array.from({ length: 200 }, () => server));
    const note = '长'.repeat(20_000); // ~60 KB each, just under the per-change bound
    for (let i = 0; i < 60; i++) e.mutate('customer.create', { id: `n${i}`, name: `N${i}`, address: note });
    await e.push();
    const sent = s.requests.filter((r) => r.body.mutations).flatMap((r) => r.body.mutations.map((m: { id: number }) => m.id));
    // every change reached the server once it fitted, in order, none skipped
    expect([...new Set(sent)]).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(seen).toBe(60);
    // batches were cut by bytes (~33 changes of 60 KB in 2 MiB) and halved after each 413
    const sizes = s.requests.map((r) => r.body.mutations.length);
    expect(Math.max(...sizes)).toBeLessThan(60);
    expect(sizes).toContain(4); // 300 KB holds four changes of 60 KB
  });

  it('is exactly-once against lastMutationIds and rebases what is still pending', async () => {
    const { e, server } = await engine([
      ok({ ok: true, lastMutationId: 1 }),
      ok(
        page({
          cookie: 'c2',
          lastMutationIds: { 'dev-1': 1 },
          patch: [{ op: 'put', entity: 'customer', id: 'c1', value: { ...C1, name: 'Mine', status: 'churned', version: 9 } }],
        }),
      ),
    ]);
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    e.update('customer', 'c1', { name: 'Mine' });
    await e.push();
    // a second change made while the first was in flight
    e.update('customer', 'c1', { status: 'at_risk' });
    await e.pull();
    expect(server.requests[0].body.mutations.map((m: { id: number }) => m.id)).toEqual([1]);
    expect(e.outbox('pending').map((m) => m.id)).toEqual([2]);
    expect(e.view('customer', 'c1')).toMatchObject({ name: 'Mine', status: 'at_risk', version: 9 });
    expect(e.synced('customer', 'c1')).toMatchObject({ status: 'churned' });
    expect(e.cookie).toBe('c2');
  });

  it('retries a push whose reply was lost without re-applying: the server skips processed ids', async () => {
    const { e, server } = await engine([
      () => {
        throw new TypeError('Failed to fetch');
      },
      ok({ ok: true, lastMutationId: 2 }),
    ]);
    e.mutate('customer.create', { id: 'x', name: 'X' });
    e.mutate('customer.update', { id: 'x', base: 0, name: 'Y' });
    await expect(e.push()).rejects.toThrow(/Failed to fetch/);
    await e.push();
    expect(server.requests.map((r) => r.body.mutations.map((m: { id: number }) => m.id))).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(e.outbox('pending').length).toBe(2); // confirmed only by a pull
  });

  it('undoes a rejected change, keeps it with its reason, and resends it fixed', async () => {
    const { e, server } = await engine([
      ok({ ok: true, lastMutationId: 1 }),
      ok(
        page({
          cookie: 'c2',
          lastMutationIds: { 'dev-1': 1 },
          rejections: [{ clientId: 'dev-1', mutationId: 1, code: 'invalid-phone', message: '999 is not valid', params: { phone: '999' } }],
        }),
      ),
      ok({ ok: true, lastMutationId: 2 }),
      ok(
        page({
          cookie: 'c3',
          lastMutationIds: { 'dev-1': 2 },
          patch: [{ op: 'put', entity: 'customer', id: 'c1', value: { ...C1, phone: '13912345678', version: 4 } }],
        }),
      ),
    ]);
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    e.update('customer', 'c1', { phone: '999' });
    expect(e.view('customer', 'c1')?.phone).toBe('999');
    await e.sync();
    expect(e.view('customer', 'c1')?.phone).toBe('13900000000');
    const [rej] = e.outbox('rejected');
    expect(rej).toMatchObject({ id: 1, code: 'invalid-phone', message: '999 is not valid', params: { phone: '999' } });
    expect(e.status()).toMatchObject({ pending: 0, rejected: 1 });
    e.resend(rej.id, { ...rej.args, phone: '13912345678' });
    expect(e.outbox('rejected')).toEqual([]);
    expect(e.view('customer', 'c1')?.phone).toBe('13912345678');
    await e.sync();
    expect(server.requests[2].body.mutations[0]).toMatchObject({ id: 2, args: { id: 'c1', base: 3, phone: '13912345678' } });
    expect(e.status()).toMatchObject({ pending: 0, rejected: 0 });
  });

  it('shows conflicts for a customer with both values', async () => {
    const { e } = await engine();
    const conflict = {
      id: 'k1',
      entity: 'customer',
      entityId: 'c1',
      customerId: 'c1',
      field: 'address',
      keptValue: 'B',
      lostValue: 'A',
      keptHlc: 'x',
      lostHlc: 'w',
      createdAt: '2026-01-01T00:00:00Z',
      version: 5,
    };
    e.applyPage(
      page({
        patch: [
          { op: 'put', entity: 'customer', id: 'c1', value: C1 },
          { op: 'put', entity: 'conflict', id: 'k1', value: conflict },
        ],
      }) as never,
    );
    expect(e.conflicts('c1')).toEqual([conflict]);
    expect(e.conflicts('other')).toEqual([]);
    expect(e.status().conflicts).toBe(1);
  });

  it('applies a page and its cookie atomically: a failing page changes nothing', async () => {
    const { db, e } = await engine();
    e.applyPage(page({ cookie: 'good', patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    db.run("CREATE TRIGGER bad_row BEFORE INSERT ON synced WHEN NEW.id = 'poison' BEGIN SELECT RAISE(ABORT, 'quota'); END");
    expect(() =>
      e.applyPage(
        page({
          cookie: 'next',
          patch: [
            { op: 'put', entity: 'customer', id: 'c2', value: { ...C1, id: 'c2' } },
            { op: 'put', entity: 'customer', id: 'poison', value: { ...C1, id: 'poison' } },
          ],
        }) as never,
      ),
    ).toThrow();
    expect(e.cookie).toBe('good');
    expect(e.synced('customer', 'c2')).toBeUndefined();
  });

  it('never moves the cookie backwards: a failed pull keeps the last applied cookie', async () => {
    const { e } = await engine([
      ok(page({ cookie: 'c2', more: true, progress: { done: 1, total: 2 }, patch: [{ op: 'clear' }] })),
      { status: 500, body: { error: 'internal-error' } },
    ]);
    await expect(e.pull()).rejects.toBeInstanceOf(ServerRefused);
    expect(e.cookie).toBe('c2');
    expect(e.status().progress).toEqual({ done: 1, total: 2 });
  });

  it('never moves the cookie or the rows backwards when two pulls answer out of order', async () => {
    // Two pulls from the same cookie (a scheduled sync and "sync now", or two tabs' workers during
    // a take-over): the one asked first answers last, with the older state.
    const answers: Array<(r: Reply) => void> = [];
    const e = new SyncEngine(await memDb(), () => new Promise<Reply>((resolve) => answers.push(resolve)));
    e.adoptClient('dev-1');
    e.applyPage(page({ cookie: 'c1', patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    const slow = e.pull();
    const fast = e.pull();
    await Promise.resolve();
    expect(answers.length).toBe(2);
    answers[1](
      ok(page({ cookie: 'c3', patch: [{ op: 'put', entity: 'customer', id: 'c1', value: { ...C1, name: 'Newer', version: 5 } }] })),
    );
    await fast;
    answers[0](
      ok(page({ cookie: 'c2', patch: [{ op: 'put', entity: 'customer', id: 'c1', value: { ...C1, name: 'Older', version: 4 } }] })),
    );
    await slow;
    expect(e.cookie).toBe('c3');
    expect(e.synced('customer', 'c1')?.name).toBe('Newer');
  });

  it('asks for the next page before writing the current one, and stores each cookie with its page', async () => {
    let appliedWhenAsked: string | null | undefined;
    const { e, server } = await engine([
      ok(
        page({
          cookie: 'p1',
          more: true,
          progress: { done: 1, total: 2 },
          patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }],
        }),
      ),
      () => {
        appliedWhenAsked = e.cookie; // the second request left before page 1 was written
        return ok(page({ cookie: 'p2', patch: [{ op: 'put', entity: 'customer', id: 'c2', value: { ...C1, id: 'c2' } }] }));
      },
    ]);
    await e.pull();
    expect(server.requests.map((r) => r.body.cookie)).toEqual([null, 'p1']);
    expect(appliedWhenAsked).toBeNull();
    expect(e.cookie).toBe('p2');
    expect(
      e
        .customers()
        .map((c) => c.id)
        .sort(),
    ).toEqual(['c1', 'c2']);
  });

  it('keeps the last applied cookie when a page fails to write, whatever was asked for next', async () => {
    const { db, e } = await engine([
      ok(
        page({
          cookie: 'p1',
          more: true,
          progress: { done: 1, total: 3 },
          patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }],
        }),
      ),
      ok(
        page({
          cookie: 'p2',
          more: true,
          progress: { done: 2, total: 3 },
          patch: [{ op: 'put', entity: 'customer', id: 'poison', value: { ...C1, id: 'poison' } }],
        }),
      ),
      ok(page({ cookie: 'p3', patch: [] })),
    ]);
    db.run("CREATE TRIGGER bad_row BEFORE INSERT ON synced WHEN NEW.id = 'poison' BEGIN SELECT RAISE(ABORT, 'quota'); END");
    await expect(e.pull()).rejects.toThrow();
    expect(e.cookie).toBe('p1');
    expect(e.synced('customer', 'poison')).toBeUndefined();
  });

  it('pulls again from the start on reset-required, keeping the outbox', async () => {
    const { e, server } = await engine([
      { status: 409, body: { error: 'reset-required' } },
      ok(page({ cookie: 'fresh', patch: [{ op: 'clear' }, { op: 'put', entity: 'customer', id: 'c1', value: C1 }] })),
    ]);
    e.setMeta('cookie', 'stale');
    e.mutate('customer.create', { id: 'mine', name: 'Mine' });
    await e.pull();
    expect(server.requests.map((r) => r.body.cookie)).toEqual(['stale', null]);
    expect(e.cookie).toBe('fresh');
    expect(
      e
        .customers()
        .map((c) => c.id)
        .sort(),
    ).toEqual(['c1', 'mine']);
  });

  it('stops on device-revoked: synced rows cleared, outbox kept and exportable', async () => {
    const { e } = await engine([{ status: 401, body: { error: 'device-revoked' } }]);
    e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
    e.update('customer', 'c1', { name: 'Unsynced' });
    await expect(e.sync()).rejects.toBeInstanceOf(SyncStopped);
    expect(e.synced('customer', 'c1')).toBeUndefined();
    expect(e.status()).toMatchObject({ stopped: 'device-revoked', pending: 1 });
    const exported = JSON.parse(e.exportOutbox());
    expect(exported.changes[0]).toMatchObject({ name: 'customer.update', args: { id: 'c1', name: 'Unsynced' } });
    await expect(e.sync()).rejects.toBeInstanceOf(SyncStopped);
  });

  it('renumbers the outbox from 1 when the install gets a new device id', async () => {
    const { e } = await engine();
    e.mutate('customer.create', { id: 'a', name: 'A' });
    e.mutate('customer.create', { id: 'b', name: 'B' });
    e.adoptClient('dev-2');
    expect(e.outbox().map((m) => [m.id, m.args.id])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(e.mutate('customer.create', { id: 'c', name: 'C' }).id).toBe(3);
    expect(e.cookie).toBeNull();
  });
});

describe('applyMutation', () => {
  it('fills a created customer with the server defaults', () => {
    expect(applyMutation(undefined, 'customer.create', { id: 'x', name: 'X' })).toEqual({
      id: 'x',
      name: 'X',
      kind: 'enterprise',
      status: 'potential',
      tags: [],
      version: 0,
    });
  });
  it('leaves a missing row missing on update', () => {
    expect(applyMutation(undefined, 'customer.update', { id: 'x', base: 0, name: 'X' })).toBeUndefined();
  });
});
