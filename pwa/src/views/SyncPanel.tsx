import { useState } from 'preact/hooks';
import { status, store } from '../app/store';
import { ago, locale, reason, t } from '../i18n';
import type { OutboxEntry, Value } from '../sync/engine';
import { Page, useStore } from './common';

function show(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  return Array.isArray(v) ? v.join('、') : String(v);
}

function fieldLabel(entity: string, field: string): string {
  const key = `${entity === 'contact' ? 'contact' : 'customer'}.${field}`;
  const label = t(key as never);
  return label === key ? field : label;
}

export function ConflictList({ rows, me }: { rows: Value[]; me: string }) {
  return (
    <ul class="list conflicts" data-testid="conflicts">
      {rows.map((c) => (
        <li key={c.id} class="card conflict">
          <div class="muted">
            {t('sync.field')}: <strong>{fieldLabel(c.entity, c.field)}</strong> ·{' '}
            {new Date(c.createdAt).toLocaleString(locale.value, { dateStyle: 'medium', timeStyle: 'short' })}
          </div>
          <div class="kept">
            <span class="label">{t('sync.kept')}</span> <span data-testid="kept">{show(c.keptValue)}</span>
          </div>
          <div class="lost">
            <span class="label">{t('sync.lost')}</span> <span data-testid="lost">{show(c.lostValue)}</span>
          </div>
          {c.lostDeviceId === me && <div class="muted">{t('sync.lostMine')}</div>}
        </li>
      ))}
    </ul>
  );
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function exportUnsynced(): Promise<void> {
  download(`outpost-unsynced-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`, await store.exportOutbox());
}

function Rejected({ entry }: { entry: OutboxEntry }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState(JSON.stringify(entry.args, null, 2));
  const [bad, setBad] = useState(false);
  const [copied, setCopied] = useState(false);
  return (
    <li class="card rejected" data-testid="rejected">
      <div>
        <strong>{entry.name}</strong> · <span class="muted">{ago(entry.createdAt)}</span>
      </div>
      <p class="error" data-testid="reason">
        {reason(entry.code, entry.params, entry.message)}
      </p>
      <div class="actions wrap">
        <button type="button" class="secondary" onClick={() => setOpen(!open)}>
          {t('sync.view')}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            await navigator.clipboard?.writeText(JSON.stringify({ name: entry.name, args: entry.args }, null, 2)).catch(() => undefined);
            setCopied(true);
          }}
        >
          {copied ? t('sync.copied') : t('sync.copy')}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            if (confirm(t('sync.discardConfirm'))) void store.discard(entry.id);
          }}
        >
          {t('sync.discard')}
        </button>
      </div>
      {open && (
        <div class="fix">
          <textarea
            name="args"
            rows={8}
            value={text}
            aria-invalid={bad}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setBad(false);
            }}
          />
          <button
            type="button"
            class="primary wide"
            onClick={() => {
              try {
                void store.resend(entry.id, JSON.parse(text));
              } catch {
                setBad(true);
              }
            }}
          >
            {t('sync.fix')}
          </button>
        </div>
      )}
    </li>
  );
}

export function SyncPanel() {
  const s = status.value;
  const outbox = useStore(() => store.outbox()) ?? [];
  const conflicts = useStore(() => store.conflicts()) ?? [];
  const rejected = outbox.filter((e) => e.state === 'rejected');
  return (
    <Page title={t('sync.title')}>
      {s.stopped && (
        <div class="banner danger">
          <p>{t(`sync.stopped.${s.stopped}` as never)}</p>
          {(s.stopped === 'device-revoked' || s.stopped === 'user-disabled') && (
            <button type="button" class="primary" data-testid="sign-in-again" onClick={() => void store.signInAgain()}>
              {t('sync.signInAgain')}
            </button>
          )}
        </div>
      )}
      {s.updateRequired && <p class="banner warn">{t('sync.updateRequired')}</p>}
      {s.lastError === 'storage-full' && <p class="banner danger">{t('sync.storageFull')}</p>}
      {s.persistent === false && <p class="banner warn">{t('sync.memoryOnly')}</p>}
      <dl class="card facts" data-testid="sync-facts">
        <div>
          <dt>{t('sync.state')}</dt>
          <dd data-testid="net">{s.online ? t('net.online') : t('net.offline')}</dd>
        </div>
        <div>
          <dt>{t('sync.pending')}</dt>
          <dd data-testid="pending">
            {s.pending ?? 0}
            {s.pending ? ` · ${t('sync.oldest', { age: ago(s.oldestPendingAt) })}` : ''}
          </dd>
        </div>
        {(s.pendingPhotos ?? 0) > 0 && (
          <div>
            <dt>{t('sync.pendingPhotos')}</dt>
            <dd data-testid="pending-photos">{s.pendingPhotos}</dd>
          </div>
        )}
        <div>
          <dt>{t('sync.last')}</dt>
          <dd data-testid="last-sync">{ago(s.lastSyncAt)}</dd>
        </div>
        {s.progress && (
          <div>
            <dt>{t('sync.progress')}</dt>
            <dd>
              {s.progress.done} / {s.progress.total}
              <progress max={s.progress.total || 1} value={s.progress.done} />
            </dd>
          </div>
        )}
        {s.lastError && s.lastError !== 'storage-full' && !s.stopped && (
          <div>
            <dt />
            <dd class="muted">{t('sync.error', { error: s.lastError })}</dd>
          </div>
        )}
      </dl>
      <div class="actions">
        <button type="button" class="primary" disabled={!!s.stopped || s.syncing} onClick={() => void store.syncNow()}>
          {s.syncing ? t('net.syncing') : t('sync.now')}
        </button>
        <button type="button" class="secondary" disabled={!outbox.length} onClick={() => void exportUnsynced()}>
          {t('sync.export')}
        </button>
      </div>
      <h2>{t('sync.rejected')}</h2>
      {rejected.length ? (
        <ul class="list">
          {rejected.map((e) => (
            <Rejected key={e.id} entry={e} />
          ))}
        </ul>
      ) : (
        <p class="muted">{t('sync.rejectedNone')}</p>
      )}
      <h2>{t('sync.conflicts')}</h2>
      {conflicts.length ? <ConflictList rows={conflicts} me={s.clientId ?? ''} /> : <p class="muted">{t('sync.conflictsNone')}</p>}
    </Page>
  );
}
