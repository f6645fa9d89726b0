import { useState } from 'preact/hooks';
import { persisted, status, store } from '../app/store';
import { type Locale, locale, setLocale, t } from '../i18n';
import { HomeScreenHint, Page } from './common';
import { exportUnsynced } from './SyncPanel';

export function Settings() {
  const s = status.value;
  const unsynced = (s.pending ?? 0) + (s.rejected ?? 0);
  const [warn, setWarn] = useState(false);
  return (
    <Page title={t('settings.title')}>
      <section class="card">
        <h2>{t('settings.language')}</h2>
        <div class="segmented" role="radiogroup">
          {(['zh-CN', 'en'] as Locale[]).map((l) => (
            // biome-ignore lint/a11y/useSemanticElements: a segmented control of buttons (touch targets, styled as the app's buttons) with the radio group's ARIA roles
            <button
              key={l}
              type="button"
              role="radio"
              aria-checked={locale.value === l}
              class={locale.value === l ? 'on' : ''}
              onClick={() => setLocale(l)}
            >
              {l === 'zh-CN' ? '中文' : 'English'}
            </button>
          ))}
        </div>
      </section>
      <section class="card">
        <h2>{t('settings.storage')}</h2>
        <p>{persisted.value ? t('settings.persisted') : t('settings.notPersisted')}</p>
      </section>
      <HomeScreenHint />
      <section class="card">
        <p>{t('settings.account', { name: s.user?.displayName ?? '' })}</p>
        {warn ? (
          <div class="banner danger">
            <p>{t('settings.logoutWarn', { n: unsynced })}</p>
            <div class="actions wrap">
              <button type="button" class="primary" onClick={() => void exportUnsynced()}>
                {t('sync.export')}
              </button>
              <button type="button" class="secondary" onClick={() => void store.logout(true)}>
                {t('settings.logoutAnyway')}
              </button>
              <button type="button" class="secondary" onClick={() => setWarn(false)}>
                {t('form.cancel')}
              </button>
            </div>
          </div>
        ) : (
          <button type="button" class="secondary wide" onClick={() => (unsynced ? setWarn(true) : void store.logout(true))}>
            {t('settings.logout')}
          </button>
        )}
      </section>
      <p class="muted center">{t('settings.version', { v: __APP_VERSION__ })}</p>
    </Page>
  );
}
