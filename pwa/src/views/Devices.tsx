import { useCallback, useEffect, useState } from 'preact/hooks';
import { store } from '../app/store';
import { ago, t } from '../i18n';
import type { Value } from '../sync/engine';
import { Page } from './common';

export function Devices() {
  const [rows, setRows] = useState<Value[] | null>(null);
  const [offline, setOffline] = useState(false);
  const load = useCallback(
    () =>
      store
        .request('/api/auth/devices', undefined, 'GET')
        .then((r) => {
          if (r.status === 200) setRows(r.body as unknown as Value[]);
          else setOffline(true);
        })
        .catch(() => setOffline(true)),
    [],
  );
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <Page title={t('devices.title')}>
      {offline && !rows && <p class="muted">{t('devices.offline')}</p>}
      <ul class="list" data-testid="devices">
        {(rows ?? []).map((d) => (
          <li key={d.id} class="card">
            <strong>{d.name}</strong> {d.current && <span class="badge">{t('devices.thisOne')}</span>}
            {d.revoked && <span class="badge danger">{t('devices.revoked')}</span>}
            <div class="muted">{t('devices.lastSync', { age: ago(d.lastSyncAt ? Date.parse(d.lastSyncAt) : null) })}</div>
            {!d.current && !d.revoked && (
              <button type="button" class="secondary" onClick={() => store.request(`/api/auth/devices/${d.id}/revoke`, {}).then(load)}>
                {t('devices.revoke')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
