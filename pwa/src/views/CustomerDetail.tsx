import { go } from '../app/router';
import { status, store } from '../app/store';
import { t } from '../i18n';
import { Page, useStore } from './common';
import { ConflictList } from './SyncPanel';

export function CustomerDetail({ id }: { id: string }) {
  const c = useStore(() => store.customer(id), [id]);
  const contacts = useStore(() => store.contacts(id), [id]) ?? [];
  const conflicts = useStore(() => store.conflicts(id), [id]) ?? [];
  if (c === undefined) return null;
  if (c === null)
    return (
      <Page title={t('nav.customers')} back={() => go('/customers')}>
        <p class="empty">{t('customer.missing')}</p>
      </Page>
    );
  const rows: Array<[string, string | null]> = [
    [t('customer.kind'), t(`kind.${c.kind}` as never)],
    [t('customer.status'), t(`status.${c.status}` as never)],
    [t('customer.tier'), c.tier ?? t('tier.none')],
    [t('customer.phone'), c.phone],
    [t('customer.address'), c.address],
    [t('customer.tags'), (c.tags ?? []).join('、')],
  ];
  return (
    <Page
      title={c.name}
      back={() => go('/customers')}
      action={
        <button type="button" class="secondary" onClick={() => go(`/customer/${id}/edit`)}>
          {t('customer.edit')}
        </button>
      }
    >
      {c.pending && <p class="badge block">{t('customer.pending')}</p>}
      <dl class="card facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v ? k === t('customer.phone') ? <a href={`tel:${v}`}>{v}</a> : v : '—'}</dd>
          </div>
        ))}
      </dl>
      <h2>{t('customer.contacts')}</h2>
      <ul class="list">
        {contacts.map((p) => (
          <li key={p.id}>
            <a class="row" href={`#/contact/${p.id}/edit`}>
              <span class="row-main">
                <strong>{p.name}</strong>
                <span class="muted">{[p.title, p.phone, p.birthday].filter(Boolean).join(' · ')}</span>
              </span>
              {p.pending && <span class="badge">{t('customer.pending')}</span>}
            </a>
          </li>
        ))}
      </ul>
      {contacts.length === 0 && <p class="muted">{t('customer.noContacts')}</p>}
      <button type="button" class="secondary wide" onClick={() => go(`/customer/${id}/contact/new`)}>
        {t('customer.addContact')}
      </button>
      {conflicts.length > 0 && (
        <>
          <h2>{t('customer.conflicts')}</h2>
          <ConflictList rows={conflicts} me={status.value.clientId ?? ''} />
        </>
      )}
    </Page>
  );
}
