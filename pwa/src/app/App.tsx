import { signal } from '@preact/signals';
import { t } from '../i18n';
import { Assets } from '../views/Assets';
import { AssetTag } from '../views/AssetTag';
import { ContactForm } from '../views/ContactForm';
import { CustomerDetail } from '../views/CustomerDetail';
import { CustomerForm } from '../views/CustomerForm';
import { Customers } from '../views/Customers';
import { Devices } from '../views/Devices';
import { Login } from '../views/Login';
import { Settings } from '../views/Settings';
import { StocktakeScan } from '../views/StocktakeScan';
import { Stocktakes } from '../views/Stocktakes';
import { SyncPanel } from '../views/SyncPanel';
import { go, match, route } from './router';
import { owner, status, takeOver } from './store';

/** A new version is waiting: how to apply it. A signal, so an offer made before any screen is up
 * (the app reopened with an update waiting) or on the login screen is not lost. */
export const updateReady = signal<(() => void) | null>(null);

function SyncPill() {
  const s = status.value;
  const state = s.stopped ? 'danger' : !s.online ? 'offline' : s.syncing ? 'syncing' : 'online';
  const label = s.stopped ? t('net.stopped') : !s.online ? t('net.offline') : s.syncing ? t('net.syncing') : t('net.online');
  return (
    <button
      type="button"
      class={`pill ${state}`}
      onClick={() => go('/sync')}
      data-testid="sync-pill"
      data-online={String(!!s.online)}
      data-syncing={String(!!s.syncing)}
      data-pending={s.pending ?? 0}
      data-rejected={s.rejected ?? 0}
      data-last-sync={s.lastSyncAt ?? 0}
      aria-label={t('nav.sync')}
    >
      <span class="dot" />
      {label}
      {(s.pending ?? 0) > 0 && <span class="count">{t('net.pending', { n: s.pending })}</span>}
      {(s.rejected ?? 0) > 0 && <span class="count danger">!{s.rejected}</span>}
    </button>
  );
}

function Screen() {
  const path = route.value;
  let m = match('/customer/new', path);
  if (m) return <CustomerForm />;
  m = match('/customer/:id/edit', path);
  if (m) return <CustomerForm id={m.id} />;
  m = match('/customer/:id/contact/new', path);
  if (m) return <ContactForm customerId={m.id} />;
  m = match('/customer/:id', path);
  if (m) return <CustomerDetail id={m.id} />;
  m = match('/contact/:id/edit', path);
  if (m) return <ContactForm id={m.id} />;
  if (path.startsWith('/assets')) return <Assets />;
  m = match('/stocktake/:id', path);
  if (m) return <StocktakeScan id={m.id} />;
  if (path.startsWith('/stocktake')) return <Stocktakes />;
  m = match('/t/:tag', path);
  if (m) return <AssetTag tag={m.tag} />;
  if (path.startsWith('/sync')) return <SyncPanel />;
  if (path.startsWith('/devices')) return <Devices />;
  if (path.startsWith('/settings')) return <Settings />;
  const roles = status.value.user?.roles ?? [];
  if (!roles.some((r) => CUSTOMER_ROLES.includes(r)) && roles.some((r) => ASSET_ROLES.includes(r))) return <Stocktakes />;
  return <Customers />;
}

// Simple line icons drawn here (no icon font, nothing fetched from elsewhere).
const ICONS: Record<string, string> = {
  customers: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 10v-2a5 5 0 0 1 5-5h4a5 5 0 0 1 5 5v2M17 3.5a4 4 0 0 1 0 7.5M22 21v-2a5 5 0 0 0-3-4.6',
  sync: 'M4 9h13l-4-4M20 15H7l4 4',
  devices: 'M7 2h10a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zM11 18h2',
  stocktake: 'M3 7V4h3M18 4h3v3M21 17v3h-3M6 20H3v-3M7 8v8M10 8v8M13 8v8M17 8v8',
  settings:
    'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .5-1.5-1.5.5-2-3-1-1 2h-2l-1-2-3 1 .5 2L6 8.5 4 8l-1 3 2 1v0l-2 1 1 3 2-.5 1.5 1.5-.5 2 3 1 1-2h2l1 2 3-1-.5-2 1.5-1.5 2 .5 1-3z',
};

function Icon({ name }: { name: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="24"
      height="24"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d={ICONS[name]} />
    </svg>
  );
}

type Tab = [string, string, 'nav.customers' | 'nav.stocktake' | 'nav.sync' | 'nav.devices' | 'nav.settings'];
const CUSTOMERS_TAB: Tab = ['/customers', 'customers', 'nav.customers'];
const STOCKTAKE_TAB: Tab = ['/stocktake', 'stocktake', 'nav.stocktake'];
const OTHER_TABS: Tab[] = [
  ['/sync', 'sync', 'nav.sync'],
  ['/devices', 'devices', 'nav.devices'],
  ['/settings', 'settings', 'nav.settings'],
];
/** Roles that work with customers, and roles that count or manage assets. */
const CUSTOMER_ROLES = ['rep', 'manager', 'admin', 'care', 'auditor'];
const ASSET_ROLES = ['stocktaker', 'asset_admin', 'manager', 'admin', 'auditor', 'finance'];

function tabsFor(roles: string[]): Tab[] {
  const tabs: Tab[] = [];
  if (roles.some((r) => CUSTOMER_ROLES.includes(r)) || roles.length === 0) tabs.push(CUSTOMERS_TAB);
  if (roles.some((r) => ASSET_ROLES.includes(r))) tabs.push(STOCKTAKE_TAB);
  return [...tabs, ...OTHER_TABS];
}

function UpdateBanner() {
  const apply = updateReady.value;
  if (!apply) return null;
  return (
    <div class="banner info update" role="status">
      <span>{t('update.ready')}</span>
      <button type="button" class="primary" onClick={() => apply()}>
        {t('update.apply')}
      </button>
      <button type="button" class="secondary" onClick={() => (updateReady.value = null)}>
        {t('update.later')}
      </button>
    </div>
  );
}

export function App() {
  const own = owner.value;
  if (own === 'locked' || own === 'taken-over')
    return (
      <main class="login">
        <div class="card">
          <h1>{own === 'locked' ? t('lock.title') : t('lock.taken')}</h1>
          <p>{t('lock.body')}</p>
          <button type="button" class="primary wide" onClick={takeOver}>
            {t('lock.takeOver')}
          </button>
        </div>
      </main>
    );
  const s = status.value;
  if (!s.ready) return <main class="splash" aria-busy="true" />;
  if (!s.user || s.loginRequired)
    return (
      <>
        <UpdateBanner />
        <Login />
      </>
    );
  const path = route.value;
  const tabs = tabsFor(s.user.roles ?? []);
  return (
    <div class="shell">
      <header class="top">
        <span class="app-name">{t('app.title')}</span>
        <SyncPill />
      </header>
      <UpdateBanner />
      {s.stopped && !path.startsWith('/sync') && (
        <a class="banner danger" href="#/sync">
          {t(`sync.stopped.${s.stopped}` as never)}
        </a>
      )}
      <main class="content">
        <Screen />
      </main>
      <nav class="tabs" style={{ gridTemplateColumns: `repeat(${tabs.length}, 1fr)` }}>
        {tabs.map(([to, icon, label]) => (
          <a
            key={to}
            href={`#${to}`}
            class={
              path.startsWith(to) ||
              (to === '/stocktake' && (path.startsWith('/t/') || path.startsWith('/assets'))) ||
              (to === '/customers' && (path.startsWith('/customer') || path.startsWith('/contact')))
                ? 'on'
                : ''
            }
          >
            <Icon name={icon} />
            {t(label)}
          </a>
        ))}
      </nav>
    </div>
  );
}
