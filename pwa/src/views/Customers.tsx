import { useEffect, useState } from 'preact/hooks';
import { go } from '../app/router';
import { revision, status, store } from '../app/store';
import { t } from '../i18n';
import type { Value } from '../sync/engine';
import { Page } from './common';

export function Customers() {
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<Value[]>([]);
  const [count, setCount] = useState(0);
  const rev = revision.value;
  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the trigger: reload on store revision
  useEffect(() => {
    let live = true;
    store.customers(q, 100).then((r) => live && setRows(r));
    store.customerCount().then((n) => live && setCount(n));
    return () => {
      live = false;
    };
  }, [q, rev]);
  const progress = status.value.progress;
  return (
    <Page
      title={t('nav.customers')}
      action={
        <button type="button" class="icon-btn add" aria-label={t('customers.new')} onClick={() => go('/customer/new')}>
          +
        </button>
      }
    >
      <input
        class="search"
        type="search"
        name="q"
        placeholder={t('customers.search')}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      {progress && (
        <div class="progress" role="status">
          <span>{t('customers.firstSync', progress)}</span>
          <progress max={progress.total || 1} value={progress.done} />
        </div>
      )}
      {!(progress && count === 0) && <p class="muted">{t('customers.count', { n: count })}</p>}
      <ul class="list" data-testid="customer-list">
        {rows.map((c) => (
          <li key={c.id}>
            <a href={`#/customer/${c.id}`} class="row">
              <span class="row-main">
                <strong>{c.name}</strong>
                <span class="muted">{[c.phone, t(`status.${c.status}` as never)].filter(Boolean).join(' · ')}</span>
              </span>
              {c.tier && <span class={`tier tier-${c.tier}`}>{c.tier}</span>}
              {c.pending && <span class="badge">{t('customer.pending')}</span>}
            </a>
          </li>
        ))}
      </ul>
      {rows.length === 0 && (
        <p class="empty">{count ? t('customers.none') : progress ? t('customers.whenDownloaded') : t('customers.empty')}</p>
      )}
    </Page>
  );
}
