// Login, tokens and the authenticated transport. Tokens live in the on-device database so the
// session survives going offline and relaunching; an expired access token is refreshed once.
import { PULL_LINES, type PullPage, type Reply, type SyncEngine, type Value } from './engine';

export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('offline');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export class LoginRequired extends Error {
  constructor(public code: string) {
    super(code);
    this.name = 'LoginRequired';
  }
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  orgUnit: { id: string; code: string; name: string } | null;
}

/** A two-line pull answer: the envelope (parsed) and, apart, the bytes of its put ops. */
export function pullLines(bytes: Uint8Array): PullPage | Value {
  const end = bytes.indexOf(10); // the envelope is one line: JSON escapes newlines in strings
  try {
    if (end < 0) throw new Error('one line');
    return { ...JSON.parse(new TextDecoder().decode(bytes.subarray(0, end))), puts: bytes.subarray(end + 1) };
  } catch {
    return { error: 'bad-reply', detail: 'The pull answer is not two lines of JSON.' };
  }
}

export class Session {
  constructor(
    private engine: SyncEngine,
    private base = '',
    private fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  get user(): User | null {
    const u = this.engine.meta('user');
    return u ? JSON.parse(u) : null;
  }

  private async raw(path: string, init: RequestInit): Promise<Reply> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, { ...init, cache: 'no-store' });
    } catch (e) {
      throw new NetworkError(e);
    }
    let body: Value = {};
    const type = res.headers.get('content-type') ?? '';
    if (res.ok && type.startsWith(PULL_LINES)) return { status: res.status, body: pullLines(new Uint8Array(await res.arrayBuffer())) };
    if (res.ok && type && !type.includes('json')) {
      // a file (labels as PDF, an export): its bytes, type and name, for the page to save
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? null;
      const skipped = Number(res.headers.get('x-labels-skipped') ?? 0);
      return { status: res.status, body: { file: await res.arrayBuffer(), type, name, skipped } };
    }
    try {
      body = await res.json();
    } catch {
      body = { error: 'bad-reply', detail: `HTTP ${res.status}` };
    }
    return { status: res.status, body };
  }

  /** Sign in. The store belongs to one user at a time: when another user signs in on this phone,
   * the previous user's rows go, and if that user has changes not yet accepted by the server, the
   * sign-in is undone and refused (`other-user-unsynced`, with their count and whose they are) unless
   * `discard` says to delete them: one person's changes are never sent in another's name. */
  /** At the account's device limit the server answers 409 `too-many-devices` with `devices` (id, name,
   * lastSeenAt, lastSyncAt): that reply comes back as it is, nothing is changed here, and the user may
   * choose one of those devices to sign out; `replaceDeviceId` sends that choice with the next try. */
  async login(username: string, password: string, deviceName: string, discard = false, replaceDeviceId?: string): Promise<Reply> {
    const reply = await this.raw('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, deviceName, deviceId: this.engine.clientId ?? undefined, replaceDeviceId }),
    });
    if (reply.status !== 200) return reply;
    const b = reply.body;
    const previous = this.user;
    if (previous && previous.id !== b.user.id) {
      const unsynced = this.engine.outbox().length;
      if (unsynced && !discard) {
        // hand back the session just opened: it must not be used with this store
        await this.raw('/api/auth/logout', {
          method: 'POST',
          headers: { authorization: `Bearer ${b.accessToken}`, 'content-type': 'application/json' },
          body: '{}',
        }).catch(() => undefined);
        return {
          status: 409,
          body: {
            error: 'other-user-unsynced',
            count: unsynced,
            owner: previous.displayName ? `${previous.displayName} (${previous.username})` : previous.username,
          },
        };
      }
      this.engine.forget();
    }
    this.engine.adoptClient(b.deviceId);
    this.engine.setMeta('accessToken', b.accessToken);
    this.engine.setMeta('refreshToken', b.refreshToken);
    this.engine.setMeta('user', JSON.stringify(b.user));
    this.engine.setMeta('stopped', null);
    this.engine.setMeta('loginRequired', null);
    return reply;
  }

  /** Send, and if the access token has expired, refresh it and send once more. When the refresh is
   * refused because the device was revoked or the user disabled, that typed answer is the reply: the
   * engine stops on it (a phone that was off longer than an access token lives learns it this way). */
  private async withRefresh(send: () => Promise<Reply>): Promise<Reply> {
    const reply = await send();
    if (reply.status === 401 && reply.body?.error === 'signed-out') {
      // this device signed out elsewhere (another tab, a support tool): its tokens are over
      this.engine.setMeta('loginRequired', 'signed-out');
      throw new LoginRequired('signed-out');
    }
    if (reply.status !== 401 || reply.body?.error !== 'token-expired') return reply;
    const token = this.engine.meta('refreshToken');
    if (!token) return reply;
    const refreshed = await this.raw('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: token }),
    });
    if (refreshed.status === 200) {
      this.engine.setMeta('accessToken', refreshed.body.accessToken);
      this.engine.setMeta('refreshToken', refreshed.body.refreshToken);
      return send();
    }
    if (refreshed.status === 401) {
      const code = refreshed.body?.error;
      if (code === 'device-revoked' || code === 'user-disabled') return refreshed;
      this.engine.setMeta('loginRequired', code ?? 'login-required');
      throw new LoginRequired(code ?? 'login-required');
    }
    throw new NetworkError(refreshed.body);
  }

  /** An authenticated JSON request; refreshes an expired access token once. */
  async request(path: string, body?: unknown, method = 'POST'): Promise<Reply> {
    const send = () =>
      this.raw(path, {
        method,
        headers: {
          authorization: `Bearer ${this.engine.meta('accessToken') ?? ''}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          // the pull's put ops as bytes for the database, not parsed here (engine.ts, PULL_LINES)
          ...(path === '/api/sync/pull' ? { accept: `${PULL_LINES}, application/json;q=0.5` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    return this.withRefresh(send);
  }

  /** Upload bytes (a photo) with PUT; refreshes an expired access token once. */
  async upload(path: string, bytes: Uint8Array, type: string): Promise<Reply> {
    const send = () =>
      this.raw(path, {
        method: 'PUT',
        headers: { authorization: `Bearer ${this.engine.meta('accessToken') ?? ''}`, 'content-type': type },
        body: new Blob([bytes as BlobPart], { type }),
      });
    return this.withRefresh(send);
  }

  transport = (path: string, body: unknown) => this.request(path, body);

  /** Forget the session on this phone. The caller has warned about unsynced changes. */
  async logout(): Promise<void> {
    try {
      await this.request('/api/auth/logout', {});
    } catch {
      // offline: the refresh token simply expires
    }
    for (const k of ['accessToken', 'refreshToken', 'user', 'cookie', 'progress', 'lastSyncAt', 'lastError']) {
      this.engine.setMeta(k, null);
    }
  }
}
