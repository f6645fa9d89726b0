// The UI's handle on the store worker: RPC calls, and signals that change when the store does.
import { signal } from '@preact/signals';
import type { OutboxEntry, Value } from '../sync/engine';

export interface Status {
  ready: boolean;
  clientId?: string | null;
  pending?: number;
  oldestPendingAt?: number | null;
  rejected?: number;
  conflicts?: number;
  pendingPhotos?: number;
  lastSyncAt?: number | null;
  lastError?: string | null;
  progress?: { done: number; total: number } | null;
  stopped?: string | null;
  updateRequired?: boolean;
  user?: { id: string; username: string; displayName: string; roles: string[]; orgUnit: { name: string } | null } | null;
  online?: boolean;
  syncing?: boolean;
  persistent?: boolean;
  loginRequired?: string | null;
}

export const status = signal<Status>({ ready: false });
/** Bumped on every change in the store; views re-read when it moves. */
export const revision = signal(0);
export const owner = signal<'starting' | 'ready' | 'locked' | 'taken-over'>('starting');
export const persisted = signal<boolean | null>(null);

let worker: Worker | undefined;
let seq = 0;
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

export function startStore(): void {
  worker = new Worker(new URL('../store/worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent) => {
    const d = ev.data;
    if (d.event) {
      if (d.event === 'ready') owner.value = 'ready';
      if (d.event === 'locked') owner.value = 'locked';
      if (d.event === 'taken-over') owner.value = 'taken-over';
      if (d.status) status.value = { ...d.status, ...(d.progress ? { progress: d.progress } : {}) };
      if (d.rows !== false) revision.value++;
      return;
    }
    const w = waiting.get(d.id);
    if (!w) return;
    waiting.delete(d.id);
    if (d.error) w.reject(Object.assign(new Error(d.error.message), d.error));
    else w.resolve(d.result);
  };
  worker.postMessage({ control: 'start' });
  const online = () => void call('setOnline', navigator.onLine).catch(() => undefined);
  addEventListener('online', online);
  addEventListener('offline', online);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void call('foreground').catch(() => undefined);
  });
  void navigator.storage
    ?.persist?.()
    .then((v) => (persisted.value = v))
    .catch(() => (persisted.value = false));
}

export function takeOver(): void {
  owner.value = 'starting';
  worker?.postMessage({ control: 'take-over' });
}

export function call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const id = ++seq;
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker?.postMessage({ id, method, args });
  });
}

export const store = {
  customers: (q: string, limit = 50) => call<Value[]>('customers', q, limit),
  customerCount: () => call<number>('customerCount'),
  /** Customers whose search entries are still to be indexed (search scans them meanwhile). */
  searchBacklog: () => call<number>('searchBacklog'),
  customer: (id: string) => call<Value | null>('customer', id),
  contacts: (customerId: string) => call<Value[]>('contacts', customerId),
  contact: (id: string) => call<Value | null>('contact', id),
  conflicts: (customerId?: string) => call<Value[]>('conflicts', customerId),
  stocktakes: () => call<Value[]>('stocktakes'),
  stocktake: (id: string) => call<Value | null>('stocktake', id),
  stocktakeItems: (id: string) => call<Value[]>('stocktakeItems', id),
  stocktakeScans: (id: string) => call<Value[]>('stocktakeScans', id),
  assetByTag: (tag: string) => call<Value | null>('assetByTag', tag),
  assets: (q: string, limit = 200) => call<Value[]>('assets', q, limit),
  attachPhoto: (bytes: ArrayBuffer, type: string) => call<string>('attachPhoto', bytes, type),
  outbox: () => call<OutboxEntry[]>('outbox'),
  exportOutbox: () => call<string>('exportOutbox'),
  mutate: (name: string, args: Value) => call<OutboxEntry>('mutate', name, args),
  update: (entity: string, id: string, changes: Value) => call<OutboxEntry>('update', entity, id, changes),
  resend: (id: number, args?: Value) => call<OutboxEntry>('resend', id, args),
  discard: (id: number) => call<void>('discard', id),
  syncNow: () => call<Status>('syncNow'),
  login: (u: string, p: string, device: string, discard = false, replaceDeviceId?: string) =>
    call<{ status: number; body: Value }>('login', u, p, device, discard, replaceDeviceId),
  signInAgain: () => call<void>('signInAgain'),
  logout: (wipe: boolean) => call<void>('logout', wipe),
  request: (path: string, body?: unknown, method?: string) => call<{ status: number; body: Value }>('request', path, body, method),
};
