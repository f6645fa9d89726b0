// The assets this phone holds, and label printing (which the server records as a print batch:
// which tags, when, by whom, reprints counted). Printing needs the network; the list does not.
import { useState } from 'preact/hooks';
import { go } from '../app/router';
import { status, store } from '../app/store';
import { t } from '../i18n';
import { Field, Page, useStore } from './common';

function save(file: ArrayBuffer, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([file], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Assets() {
  const [q, setQ] = useState('');
  const [layout, setLayout] = useState<'a4' | '50x30'>('a4');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const rows = useStore(() => store.assets(q, 200), [q]) ?? [];
  const online = !!status.value.online;

  async function print(kind: 'asset' | 'location') {
    setBusy(true);
    setMessage('');
    try {
      const body = kind === 'asset' ? { tags: rows.map((a) => a.tag), layout } : { kind, all: true, layout };
      const r = await store.request('/api/assets/labels', body);
      if (r.status === 200 && r.body.file) {
        save(r.body.file, r.body.type, r.body.name ?? 'labels.pdf');
        const skipped = Number(r.body.skipped ?? 0);
        const printed = kind === 'asset' ? t('assets.printed', { n: rows.length - skipped }) : t('assets.printedPlaces');
        setMessage(skipped > 0 ? `${printed} ${t('assets.printSkipped', { n: skipped })}` : printed);
      } else setMessage(r.body?.detail ?? t('assets.printFailed'));
    } catch {
      setMessage(t('assets.printFailed'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title={t('assets.title')} back={() => go('/stocktake')}>
      <input
        class="search"
        type="search"
        name="q"
        placeholder={t('assets.search')}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      <div class="card">
        <Field label={t('assets.layout')}>
          <select value={layout} onChange={(e) => setLayout(e.currentTarget.value as 'a4' | '50x30')}>
            <option value="a4">{t('assets.layoutA4')}</option>
            <option value="50x30">{t('assets.layoutThermal')}</option>
          </select>
        </Field>
        <button
          type="button"
          class="primary wide"
          data-testid="print"
          disabled={!online || busy || rows.length === 0}
          onClick={() => print('asset')}
        >
          {t('assets.print', { n: rows.length })}
        </button>
        <button
          type="button"
          class="secondary wide"
          data-testid="print-places"
          disabled={!online || busy}
          onClick={() => print('location')}
        >
          {t('assets.printPlaces')}
        </button>
        {!online && <p class="muted">{t('assets.printOnline')}</p>}
        {message && (
          <p class="muted" role="status" data-testid="print-result">
            {message}
          </p>
        )}
      </div>
      <ul class="list" data-testid="assets">
        {rows.map((a) => (
          <li key={a.id}>
            <a class="row" href={`#/t/${a.tag}`}>
              <span class="row-main">
                <strong>{a.name}</strong>
                <span class="muted">
                  {a.tag} · {t(`assetStatus.${a.status}` as never)}
                  {a.serial ? ` · ${a.serial}` : ''}
                </span>
              </span>
            </a>
          </li>
        ))}
      </ul>
      {rows.length === 0 && <p class="empty">{t('assets.none')}</p>}
    </Page>
  );
}
