import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { ContactForm } from '../views/ContactForm';
import { CustomerDetail } from '../views/CustomerDetail';
import { CustomerForm } from '../views/CustomerForm';
import { Customers } from '../views/Customers';
import { Devices } from '../views/Devices';
import { Login } from '../views/Login';
import { Settings } from '../views/Settings';
import { SyncPanel } from '../views/SyncPanel';
import { go, match, route } from './router';
import { owner, status, takeOver } from './store';

export const updateReady = { show: (_apply: () => void) => undefined as void };

function SyncPill() {
  const s = status.value;
  const state = s.stopped ? 'danger' : !s.online ? 'offline' : s.syncing ? 'syncing' : 'online';
  const label = !s.online ? t('net.offline') : s.syncing ? t('net.syncing') : t('net.online');
  return (
    <button type="button" class={`pill ${state}`} onClick={() => go('/sync')} data-testid="sync-pill" aria-label={t('nav.sync')}>
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
  if (path.startsWith('/sync')) return <SyncPanel />;
  if (path.startsWith('/devices')) return <Devices />;
  if (path.startsWith('/settings')) return <Settings />;
  return <Customers />;
}

const TABS: Array<[string, string, 'nav.customers' | 'nav.sync' | 'nav.devices' | 'nav.settings']> = [
  ['/customers', '👥', 'nav.customers'],
  ['/sync', '⇅', 'nav.sync'],
  ['/devices', '📱', 'nav.devices'],
  ['/settings', '⚙', 'nav.settings'],
];

function UpdateBanner() {
  const [apply, setApply] = useState<(() => void) | null>(null);
  useEffect(() => {
    updateReady.show = (fn) => setApply(() => fn);
  }, []);
  if (!apply) return null;
  return (
    <div class="banner info update" role="status">
      <span>{t('update.ready')}</span>
      <button type="button" class="primary" onClick={() => apply()}>
        {t('update.apply')}
      </button>
      <button type="button" class="secondary" onClick={() => setApply(null)}>
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
  if (!s.user || s.loginRequired) return <Login />;
  const path = route.value;
  return (
    <div class="shell">
      <header class="top">
        <span class="app-name">{t('app.title')}</span>
        <SyncPill />
      </header>
      <UpdateBanner />
      {s.stopped && (
        <a class="banner danger" href="#/sync">
          {t(`sync.stopped.${s.stopped}` as never)}
        </a>
      )}
      <main class="content">
        <Screen />
      </main>
      <nav class="tabs">
        {TABS.map(([to, icon, label]) => (
          <a key={to} href={`#${to}`} class={path.startsWith(to) || (to === '/customers' && (path.startsWith('/customer') || path.startsWith('/contact'))) ? 'on' : ''}>
            <span aria-hidden="true">{icon}</span>
            {t(label)}
          </a>
        ))}
      </nav>
    </div>
  );
}
