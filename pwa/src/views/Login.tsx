import { useState } from 'preact/hooks';
import { status, store } from '../app/store';
import { ago, t } from '../i18n';
import type { Value } from '../sync/engine';
import { Field, HomeScreenHint } from './common';
import { exportUnsynced } from './SyncPanel';

function deviceName(): string {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 0)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac/.test(ua)
          ? 'Mac'
          : 'Linux';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Chrome\//.test(ua)
      ? 'Chrome'
      : /Safari\//.test(ua)
        ? 'Safari'
        : /Firefox\//.test(ua)
          ? 'Firefox'
          : 'Browser';
  return `${browser} on ${os}`;
}

export function Login() {
  const [username, setUsername] = useState(status.value.user?.username ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // another user's changes are on this phone: how many and whose (the sign-in was refused)
  const [other, setOther] = useState<{ count: number; owner: string } | null>(null);
  // the account is at its device limit: the devices to choose one from (none is ever signed out unasked)
  const [full, setFull] = useState<Value[] | null>(null);

  async function submit(e: Event | null, discard = false, replaceDeviceId?: string) {
    e?.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await store.login(username.trim(), password, deviceName(), discard, replaceDeviceId);
      if (r.status === 200) return setFull(null);
      if (r.body?.error === 'other-user-unsynced') return setOther({ count: r.body.count, owner: r.body.owner });
      if (r.body?.error === 'too-many-devices') return setFull(r.body.devices as Value[]);
      setFull(null);
      const code = r.body?.error;
      setError(
        r.status === 429
          ? t('login.limited')
          : code === 'user-disabled'
            ? t('login.disabled')
            : r.status === 401
              ? t('login.bad')
              : (r.body?.detail ?? String(r.status)),
      );
    } catch {
      setError(t('login.offline'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login">
      <div class="brand">
        <img src="/icons/icon-192.png" alt="" width={72} height={72} />
        <h1>{t('app.title')}</h1>
      </div>
      {status.value.loginRequired && <p class="banner warn">{t('login.again')}</p>}
      <form onSubmit={submit} class="card">
        <h2>{t('login.title')}</h2>
        <Field label={t('login.username')}>
          <input
            name="username"
            autocomplete="username"
            autocapitalize="off"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </Field>
        <Field label={t('login.password')}>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {other && (
          <div class="banner danger" role="alert" data-testid="other-user">
            <p>{t('login.otherUser', other)}</p>
            <div class="actions wrap">
              <button type="button" class="secondary" onClick={() => void exportUnsynced()}>
                {t('sync.export')}
              </button>
              <button type="button" class="secondary" onClick={() => void submit(null, true)}>
                {t('login.discardOther')}
              </button>
            </div>
          </div>
        )}
        {full && (
          <div class="banner warn" role="alert" data-testid="too-many-devices">
            <p>{t('login.tooManyDevices', { count: full.length })}</p>
            <p>
              <strong>{t('login.replaceWarning')}</strong>
            </p>
            <ul class="list">
              {full.map((d) => (
                <li key={d.id}>
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    style={{ width: '100%', minHeight: '56px', textAlign: 'start', whiteSpace: 'normal', overflowWrap: 'anywhere' }}
                    onClick={() => void submit(null, false, d.id)}
                  >
                    <strong>{t('login.replaceDevice', { name: d.name })}</strong>
                    <div class="muted">
                      {t('login.deviceSeen', {
                        seen: ago(d.lastSeenAt ? Date.parse(d.lastSeenAt) : null),
                        synced: ago(d.lastSyncAt ? Date.parse(d.lastSyncAt) : null),
                      })}
                    </div>
                  </button>
                </li>
              ))}
            </ul>
            <button type="button" class="secondary" style={{ width: '100%' }} onClick={() => setFull(null)}>
              {t('login.cancelReplace')}
            </button>
          </div>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
      </form>
      <HomeScreenHint />
    </main>
  );
}
