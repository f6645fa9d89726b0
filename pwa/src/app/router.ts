import { signal } from '@preact/signals';

function current(): string {
  return globalThis.location?.hash.replace(/^#/, '') || '/customers';
}

export const route = signal(current());
globalThis.addEventListener?.('hashchange', () => {
  route.value = current();
});

export function go(path: string): void {
  globalThis.location.hash = path;
}

export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('?')[0].split('/');
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return null;
  }
  return out;
}
