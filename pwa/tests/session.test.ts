// The authenticated transport (src/sync/session.ts) with the engine, against a scripted fetch that
// answers with real Response objects: expired access tokens, refreshes, and the typed refusals a
// refresh can bring.
import { describe, expect, it } from 'vitest';
import { SyncEngine, SyncStopped, type Value } from '../src/sync/engine';
import { LoginRequired, Session } from '../src/sync/session';
import { memDb, page } from './helpers';

const C1 = { id: 'c1', name: 'Old Name', phone: '13900000000', status: 'active', tags: [], version: 3 };

type Answer = { status: number; body: Value };

async function phone(answers: Answer[]) {
  const db = await memDb();
  const calls: Array<{ path: string; auth: string | null; body: Value }> = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({
      path: url,
      auth: new Headers(init.headers).get('authorization'),
      body: init.body ? JSON.parse(String(init.body)) : null,
    });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${url}`);
    return new Response(JSON.stringify(next.body), {
      status: next.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  let session: Session | undefined;
  const e = new SyncEngine(db, (p, b) => (session as Session).request(p, b));
  session = new Session(e, '', fetchFn);
  e.adoptClient('dev-1');
  e.setMeta('accessToken', 'old-access');
  e.setMeta('refreshToken', 'old-refresh');
  e.applyPage(page({ patch: [{ op: 'put', entity: 'customer', id: 'c1', value: C1 }] }) as never);
  return { e, session, calls };
}

const expired = { status: 401, body: { error: 'token-expired', detail: 'The access token has expired.' } };

describe('an expired access token', () => {
  it('is refreshed once and the request sent again with the new token', async () => {
    const { e, calls } = await phone([
      expired,
      { status: 200, body: { accessToken: 'new-access', expiresIn: 900, refreshToken: 'new-refresh', deviceId: 'dev-1' } },
      { status: 200, body: page({ cookie: 'c2' }) },
    ]);
    await e.sync();
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/sync/pull', 'Bearer old-access'],
      ['/api/auth/refresh', null],
      ['/api/sync/pull', 'Bearer new-access'],
    ]);
    expect(calls[1].body).toEqual({ refreshToken: 'old-refresh' });
    expect([e.meta('accessToken'), e.meta('refreshToken'), e.cookie]).toEqual(['new-access', 'new-refresh', 'c2']);
  });

  // A phone that was off longer than an access token lives (15 minutes) learns that it was revoked
  // from the refresh, not from the request: it must stop all the same, not retry for ever.
  for (const code of ['device-revoked', 'user-disabled']) {
    it(`stops the phone when the refresh answers ${code}: synced rows cleared, outbox kept`, async () => {
      const { e, calls } = await phone([expired, { status: 401, body: { error: code } }]);
      e.update('customer', 'c1', { name: 'Typed offline' });
      await expect(e.sync()).rejects.toBeInstanceOf(SyncStopped);
      expect(calls.map((c) => c.path)).toEqual(['/api/sync/push', '/api/auth/refresh']);
      expect(e.status()).toMatchObject({ stopped: code, pending: 1 });
      expect(e.synced('customer', 'c1')).toBeUndefined();
      expect(JSON.parse(e.exportOutbox()).changes[0]).toMatchObject({
        name: 'customer.update',
        args: { id: 'c1', name: 'Typed offline' },
      });
      // stopped for good: no more requests
      await expect(e.sync()).rejects.toBeInstanceOf(SyncStopped);
      expect(calls.length).toBe(2);
    });
  }

  it('asks for a new login when the refresh token is no good, keeping everything', async () => {
    const { e, calls } = await phone([expired, { status: 401, body: { error: 'refresh-reused' } }]);
    e.update('customer', 'c1', { name: 'Typed offline' });
    await expect(e.sync()).rejects.toBeInstanceOf(LoginRequired);
    expect(calls.length).toBe(2);
    expect(e.meta('loginRequired')).toBe('refresh-reused');
    expect(e.status()).toMatchObject({ stopped: null, pending: 1 });
    expect(e.synced('customer', 'c1')?.name).toBe('Old Name');
  });
});
