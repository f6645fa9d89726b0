// One message catalog, Chinese (zh-CN) and English. The Chinese uses the words field users know.
import { signal } from '@preact/signals';
import { en } from './en';
import { zh } from './zh';

export type Locale = 'zh-CN' | 'en';
export type MessageKey = keyof typeof en;

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zh };

function initial(): Locale {
  const saved = globalThis.localStorage?.getItem('outpost.locale');
  if (saved === 'en' || saved === 'zh-CN') return saved;
  const nav = globalThis.navigator?.language ?? 'zh-CN';
  return nav.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export const locale = signal<Locale>(initial());

export function setLocale(l: Locale): void {
  locale.value = l;
  globalThis.localStorage?.setItem('outpost.locale', l);
  if (globalThis.document) document.documentElement.lang = l;
}

export function t(key: MessageKey, params: Record<string, unknown> = {}): string {
  const text = catalogs[locale.value][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (params[k] === undefined ? `{${k}}` : String(params[k])));
}

/** A rejection's reason in the user's language, from its code and params (message as fallback). */
export function reason(
  code: string | null | undefined,
  params: Record<string, unknown> | null | undefined,
  message?: string | null,
): string {
  const key = `reject.${code}` as MessageKey;
  if (code && key in en) return t(key, params ?? {});
  return message ?? code ?? '';
}

export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return t('time.never');
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return t('time.justNow');
  if (s < 3600) return t('time.minutes', { n: Math.round(s / 60) });
  if (s < 86400) return t('time.hours', { n: Math.round(s / 3600) });
  return t('time.days', { n: Math.round(s / 86400) });
}

export const catalogsForTest = catalogs;
