// Where a label's URL (<public URL>/t/<TAG>) leads: the asset as this phone holds it, or as the
// server has it when online. The tag's check character is verified first, offline.
import { go } from '../app/router';
import { store } from '../app/store';
import { t } from '../i18n';
import { parseScan } from '../scanner/tagcode';
import type { Value } from '../sync/engine';
import { Page, useStore } from './common';

interface Found {
  asset: Value | null;
  from: 'phone' | 'server' | null;
  invalid: boolean;
  location?: Value;
}

/** A location label (what a stocktaker scans first at a place), from the campaigns on this phone. */
async function location(tag: string): Promise<Found | null> {
  for (const st of await store.stocktakes()) {
    const fmt = st.codes?.location;
    const read = fmt ? parseScan(tag, fmt) : null;
    if (read?.kind !== 'tag') continue;
    const loc = (st.locations ?? []).find((l: Value) => l.code === read.tag);
    return { asset: null, from: null, invalid: false, location: loc ?? { code: read.tag, name: '' } };
  }
  return null;
}

async function load(tag: string): Promise<Found> {
  const read = parseScan(tag);
  if (read.kind !== 'tag') return (await location(tag)) ?? { asset: null, from: null, invalid: true };
  const local = await store.assetByTag(read.tag);
  if (local) return { asset: local, from: 'phone', invalid: false };
  try {
    const r = await store.request(`/api/assets/by-tag/${encodeURIComponent(read.tag)}`, undefined, 'GET');
    if (r.status === 200) return { asset: r.body, from: 'server', invalid: false };
  } catch {
    // offline: nothing more to show than the phone holds
  }
  return { asset: null, from: null, invalid: false };
}

export function AssetTag({ tag }: { tag: string }) {
  const data = useStore(() => load(tag), [tag]);
  return (
    <Page title={tag} back={() => go('/stocktake')}>
      {data?.invalid && <p class="banner danger">{t('asset.invalidTag')}</p>}
      {data?.location && (
        <p class="card" data-testid="location-label">
          {t('asset.locationLabel', { code: data.location.code, name: data.location.name })}
        </p>
      )}
      {data && !data.invalid && !data.asset && !data.location && <p class="empty">{t('asset.notHere')}</p>}
      {data?.asset && (
        <dl class="facts card" data-testid="asset">
          <div>
            <dt>{t('asset.name')}</dt>
            <dd>{data.asset.name}</dd>
          </div>
          <div>
            <dt>{t('asset.category')}</dt>
            <dd>{data.asset.categoryCode}</dd>
          </div>
          {data.asset.model && (
            <div>
              <dt>{t('asset.model')}</dt>
              <dd>{data.asset.model}</dd>
            </div>
          )}
          {data.asset.serial && (
            <div>
              <dt>{t('asset.serial')}</dt>
              <dd>{data.asset.serial}</dd>
            </div>
          )}
          <div>
            <dt>{t('asset.status')}</dt>
            <dd>{t(`assetStatus.${data.asset.status}` as never)}</dd>
          </div>
          <div>
            <dt>{t('asset.source')}</dt>
            <dd>{data.from === 'phone' ? t('asset.fromPhone') : t('asset.fromServer')}</dd>
          </div>
        </dl>
      )}
    </Page>
  );
}
