import { registerSW } from 'virtual:pwa-register';
import { render } from 'preact';
import { App, updateReady } from './app/App';
import { startStore, status, store } from './app/store';
import { locale, setLocale } from './i18n';
import './styles.css';

document.documentElement.lang = locale.value;
// A label's URL (<public URL>/t/<TAG>) opened by the phone's camera app: show that asset. Online the
// server redirects to /#/t/<TAG>; offline the service worker serves the app at /t/<TAG> itself.
const label = /^\/t\/([^/?#]+)\/?$/.exec(location.pathname);
if (label) history.replaceState(null, '', `/#/t/${label[1]}`);
startStore();
// For support staff and browser tests: the store's read API, sync status and the language, from the
// console.
(globalThis as unknown as { outpost: unknown }).outpost = { store, status, setLocale };
render(<App />, document.getElementById('app') as HTMLElement);

// An update never reloads under the user's hands: the new service worker waits until the user
// accepts; the on-device schema and outbox are migrated by versioned steps when the store opens.
const updateSW = registerSW({
  onNeedRefresh() {
    updateReady.value = () => {
      void updateSW(true);
      // A page the old worker never controlled gets no controller change: reload it ourselves.
      if (!navigator.serviceWorker.controller) setTimeout(() => location.reload(), 500);
    };
  },
});
