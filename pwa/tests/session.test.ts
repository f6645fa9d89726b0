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

describe('a device that signed out', () => {
  it('asks for a new login when the server says its tokens were ended, keeping the changes', async () => {
    const { e, calls } = await phone([{ status: 401, body: { error: 'signed-out' } }]);
    e.update('customer', 'c1', { name: 'Typed' });
    await expect(e.sync()).rejects.toBeInstanceOf(LoginRequired);
    expect(calls.map((c) => c.path)).toEqual(['/api/sync/push']); // no refresh: it would not help
    expect(e.meta('loginRequired')).toBe('signed-out');
    expect(e.status()).toMatchObject({ stopped: null, pending: 1 });
  });
});

describe('signing in on a phone that holds another user’s data', () => {
  const A = { id: 'user-a', username: 'rep1', displayName: '陈一', roles: ['rep'], orgUnit: null };
  const B = { id: 'user-b', username: 'rep2', displayName: '李二', roles: ['rep'], orgUnit: null };
  const signedIn = (user: Value, deviceId: string) => ({
    status: 200,
    body: { accessToken: `access-${deviceId}`, expiresIn: 900, refreshToken: `refresh-${deviceId}`, deviceId, user },
  });

  async function asA(answers: Answer[]) {
    const p = await phone(answers);
    p.e.setMeta('user', JSON.stringify(A));
    return p;
  }

  it('refuses, and hands the new session back, while the previous user has changes not sent', async () => {
    const { e, session, calls } = await asA([signedIn(B, 'dev-b'), { status: 200, body: { ok: true } }]);
    e.update('customer', 'c1', { name: 'By A' });
    const reply = await session.login('rep2', 'pw', 'phone');
    expect(reply).toEqual({ status: 409, body: { error: 'other-user-unsynced', count: 1, owner: '陈一 (rep1)' } });
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/auth/login', null],
      ['/api/auth/logout', 'Bearer access-dev-b'],
    ]);
    // nothing of A's touched, nothing of B's kept
    expect(session.user?.id).toBe('user-a');
    expect([e.clientId, e.meta('accessToken')]).toEqual(['dev-1', 'old-access']);
    expect(e.outbox().map((m) => m.args)).toEqual([{ id: 'c1', base: 3, name: 'By A' }]);
    expect(e.view('customer', 'c1')?.name).toBe('By A');
  });

  it('deletes the previous user’s rows, changes and photos when told to, then signs in', async () => {
    const { e, session } = await asA([signedIn(B, 'dev-b')]);
    e.update('customer', 'c1', { name: 'By A' });
    e.addAttachment('ab'.repeat(32), 'image/jpeg', new Uint8Array([1, 2, 3]));
    const reply = await session.login('rep2', 'pw', 'phone', true);
    expect(reply.status).toBe(200);
    expect(session.user?.id).toBe('user-b');
    expect([e.clientId, e.cookie, e.outbox().length, e.pendingAttachments().length]).toEqual(['dev-b', null, 0, 0]);
    expect(e.view('customer', 'c1')).toBeUndefined();
  });

  it('with nothing unsent, the previous user’s rows simply go', async () => {
    const { e, session } = await asA([signedIn(B, 'dev-b')]);
    expect((await session.login('rep2', 'pw', 'phone')).status).toBe(200);
    expect(e.synced('customer', 'c1')).toBeUndefined();
    expect(e.customers()).toEqual([]);
  });

  it('the same user signing in again after a revocation keeps the changes, renumbered for the new device', async () => {
    const { e, session } = await asA([signedIn(A, 'dev-2')]);
    e.update('customer', 'c1', { name: 'Typed before the revocation' });
    e.stop('device-revoked');
    e.setMeta('loginRequired', 'device-revoked');
    expect((await session.login('rep1', 'pw', 'phone')).status).toBe(200);
    expect(e.status()).toMatchObject({ stopped: null, pending: 1 });
    expect(e.clientId).toBe('dev-2');
    expect(e.outbox().map((m) => [m.id, m.args.name])).toEqual([[1, 'Typed before the revocation']]);
    expect(e.meta('loginRequired')).toBeNull();
  });
});

describe('signing in on an account at its device limit', () => {
  const A = { id: 'user-a', username: 'rep1', displayName: '陈一', roles: ['rep'], orgUnit: null };
  const devices = [
    { id: 'old-phone', name: 'Chrome on Android', lastSeenAt: '2026-11-01T08:00:00+00:00', lastSyncAt: '2026-11-01T08:00:00+00:00' },
    { id: 'tablet', name: 'Safari on iOS', lastSeenAt: null, lastSyncAt: null },
  ];
  const full = { status: 409, body: { error: 'too-many-devices', detail: 'Choose one to sign out.', maxDevices: 2, devices } };

  it('hands the 409 back untouched, then retries with the device the user chose', async () => {
    const { e, session, calls } = await phone([
      full,
      { status: 200, body: { accessToken: 'access-new', expiresIn: 900, refreshToken: 'refresh-new', deviceId: 'dev-new', user: A } },
    ]);
    e.setMeta('user', JSON.stringify(A));
    e.stop('device-revoked'); // this install was signed out by an admin: a new device is needed
    e.update('customer', 'c1', { name: 'Typed before' });

    const refused = await session.login('rep1', 'pw', 'phone');
    expect(refused).toEqual(full);
    // nothing changed on the phone: same tokens, same device, the change still waiting
    expect([e.clientId, e.meta('accessToken'), e.outbox().length]).toEqual(['dev-1', 'old-access', 1]);

    const reply = await session.login('rep1', 'pw', 'phone', false, 'old-phone');
    expect(reply.status).toBe(200);
    expect(calls.map((c) => c.body)).toEqual([
      { username: 'rep1', password: 'pw', deviceName: 'phone', deviceId: 'dev-1' },
      { username: 'rep1', password: 'pw', deviceName: 'phone', deviceId: 'dev-1', replaceDeviceId: 'old-phone' },
    ]);
    expect([e.clientId, e.meta('accessToken'), e.meta('refreshToken')]).toEqual(['dev-new', 'access-new', 'refresh-new']);
    expect(e.outbox().map((m) => m.args.name)).toEqual(['Typed before']); // kept, renumbered for the new device
  });
});
