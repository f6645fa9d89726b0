import { go } from '../app/router';
import { status, store } from '../app/store';
import { t } from '../i18n';
import { progress } from '../scanner/stocktake';
import type { Value } from '../sync/engine';
import { Page, useStore } from './common';

async function load(): Promise<Array<{ st: Value; found: number; expected: number }>> {
  const list = await store.stocktakes();
  return Promise.all(
    list.map(async (st) => {
      const [items, scans] = await Promise.all([store.stocktakeItems(st.id), store.stocktakeScans(st.id)]);
      const p = progress(st as never, items, scans).total;
      return { st, found: p.found, expected: p.expected };
    }),
  );
}

/** Stocktake campaigns on this phone, with how far each has got. */
export function Stocktakes() {
  const rows = useStore(load) ?? [];
  const me = status.value.user?.id;
  const manages = (status.value.user?.roles ?? []).some((r) => ['asset_admin', 'manager', 'admin', 'finance', 'auditor'].includes(r));
  return (
    <Page
      title={t('nav.stocktake')}
      action={
        manages && (
          <button type="button" class="secondary" data-testid="open-assets" onClick={() => go('/assets')}>
            {t('assets.open')}
          </button>
        )
      }
    >
      <ul class="list" data-testid="stocktake-list">
        {rows.map(({ st, found, expected }) => {
          const mine = (st.assignees ?? []).find((a: Value) => a.userId === me);
          const finished = st.finishedByMe || !!mine?.finishedAt;
          return (
            <li key={st.id}>
              <a href={`#/stocktake/${st.id}`} class="row" onClick={() => go(`/stocktake/${st.id}`)}>
                <span class="row-main">
                  <strong>{st.name}</strong>
                  <span class="muted">
                    {t(`stocktake.state.${st.state}` as never)} · {t('stocktake.found', { found, expected })}
                  </span>
                  <progress max={expected || 1} value={found} />
                </span>
                {finished && <span class="badge">{t('stocktake.finishedMine')}</span>}
              </a>
            </li>
          );
        })}
      </ul>
      {rows.length === 0 && <p class="empty">{t('stocktake.none')}</p>}
    </Page>
  );
}
