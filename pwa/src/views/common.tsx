import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { revision } from '../app/store';
import { t } from '../i18n';

/** Load data from the store, again whenever the store changes. */
export function useStore<T>(load: () => Promise<T>, deps: unknown[] = []): T | undefined {
  const [value, setValue] = useState<T>();
  const rev = revision.value;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on store revision
  useEffect(() => {
    let live = true;
    load()
      .then((v) => live && setValue(v))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [rev, ...deps]);
  return value;
}

export function Page(props: { title: string; back?: () => void; action?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="page">
      <div class="page-head">
        {props.back && (
          <button type="button" class="icon-btn" aria-label={t('form.back')} onClick={props.back}>
            ‹
          </button>
        )}
        <h1>{props.title}</h1>
        {props.action}
      </div>
      {props.children}
    </section>
  );
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string; error?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is props.children, nested in the label (implicit association)
    <label class="field">
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
      {props.error && (
        <span class="error" role="alert">
          {props.error}
        </span>
      )}
    </label>
  );
}

/** Why a change could not be written on this phone, for the person who made it: out of storage (what
 * they typed or scanned stays on screen so they can try again), or the error itself. */
export function notSaved(e: unknown): string {
  const err = e as { name?: string; message?: string; code?: string };
  if (err?.name === 'StorageFullError') return t('form.notSavedFull');
  if (err?.name === 'ChangeTooLarge') return t(err.code === 'args-too-deep' ? 'form.tooDeep' : 'form.tooLarge');
  return t('form.notSaved', { reason: err?.message ?? String(e) });
}

/** iPhone or iPad (iPadOS Safari says "Macintosh", but a Mac has no touch screen), not yet opened
 * from the home screen: there install, Web Push and protection from storage eviction need it. */
export function homeScreenHint(): 'safari' | 'wechat' | null {
  const ua = navigator.userAgent;
  const ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 0);
  if (!ios || (navigator as Navigator & { standalone?: boolean }).standalone) return null;
  return /MicroMessenger/.test(ua) ? 'wechat' : 'safari'; // WeChat's own browser cannot add to the home screen
}

export function HomeScreenHint() {
  const kind = homeScreenHint();
  if (!kind) return null;
  return (
    <div class="card" data-testid="home-screen-hint">
      <h3>{t('settings.install')}</h3>
      <p>{kind === 'wechat' ? t('settings.installWechat') : t('settings.installSteps')}</p>
    </div>
  );
}

export function uuid(): string {
  return crypto.randomUUID();
}

export const PHONE_RE = /^\+?[0-9][0-9 -]{2,38}$/;
