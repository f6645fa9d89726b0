// The store measurement issue 4 was written from, re-run on the machine of the day so the bench's
// figures can be read against it ("SQLite-WASM, opfs-sahpool VFS, in a dedicated worker, loads
// 60,000 field-shaped rows (24 MB JSON) with 3 indexes in 2.6-3.1 s with one prepared statement row
// by row"). Not the app's code: the plain way, as a yardstick of this machine's speed.
import sqlite3InitModule from './sqlite/index.mjs';

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const PLACES = ['广州', '深圳', '佛山', '东莞', '珠海', 'Guangzhou', 'Shenzhen'];
const WORDS = ['华南物流', '科技有限公司', '贸易', '酒店', 'Pearl River Trading', 'Logistics'];

function rows(n) {
  const out = [];
  for (let i = 0; i < n / 2; i++) {
    const id = `c-${String(i).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const name = `${PLACES[i % PLACES.length]}${WORDS[i % WORDS.length]}${i}`;
    out.push({
      entity: 'customer',
      id,
      value: {
        id, name, industry: 'logistics', tier: i % 5 ? 'B' : 'VIP',
        address: `${PLACES[i % PLACES.length]}天河区体育西路${i % 300}号`, phone: `+86138${String(i).padStart(8, '0')}`,
        tags: ['key-account', i % 2 ? '5G' : 'broadband'], assigned_rep_id: 'rep1-0000-4000-8000-000000000001',
        org_unit_id: 'unit-gz-th', version: 1000 + i, created_at: '2026-11-01T08:00:00+00:00',
        updated_at: '2026-11-20T09:30:00.123456+00:00',
      },
    });
    const cid = `k-${String(i).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`;
    out.push({
      entity: 'contact',
      id: cid,
      value: {
        id: cid, customer_id: id, name: `${SURNAMES[i % SURNAMES.length]}经理`, title: '采购经理',
        phone: `+86139${String(i).padStart(8, '0')}`, email: `buyer${i}@example.cn`,
        primary: true, version: 1000 + i, created_at: '2026-11-01T08:00:00+00:00',
        updated_at: '2026-11-20T09:30:00.123456+00:00',
      },
    });
  }
  return out;
}

self.onmessage = async (e) => {
  const n = e.data.rows;
  const text = JSON.stringify(rows(n));
  const sqlite3 = await sqlite3InitModule();
  const pool = await sqlite3.installOpfsSAHPoolVfs({ name: 'outpost-bench-reference', initialCapacity: 4 });
  await pool.wipeFiles();
  const db = new pool.OpfsSAHPoolDb('/reference.sqlite3');
  db.exec(`CREATE TABLE synced (entity TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT, sort_key TEXT,
             version INTEGER, value TEXT NOT NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID;
           CREATE INDEX synced_sort ON synced (entity, sort_key);
           CREATE INDEX synced_parent ON synced (parent_id);
           CREATE INDEX synced_version ON synced (entity, version);`);
  const t0 = performance.now();
  const parsed = JSON.parse(text);
  const t1 = performance.now();
  const stmt = db.prepare('INSERT INTO synced (entity, id, parent_id, sort_key, version, value) VALUES (?, ?, ?, ?, ?, ?)');
  db.exec('BEGIN');
  for (const r of parsed) {
    stmt.bind([r.entity, r.id, r.value.customer_id ?? null, r.value.name, r.value.version, JSON.stringify(r.value)]);
    stmt.stepReset();
  }
  db.exec('COMMIT');
  stmt.finalize();
  const t2 = performance.now();
  const count = db.selectValue('SELECT count(*) FROM synced');
  db.close();
  await pool.removeVfs();
  self.postMessage({ bytes: new TextEncoder().encode(text).length, count, parse: t1 - t0, insert: t2 - t1, total: t2 - t0 });
};
