import { useEffect, useState } from 'preact/hooks';
import { go } from '../app/router';
import { store } from '../app/store';
import { t } from '../i18n';
import type { Value } from '../sync/engine';
import { Field, notSaved, Page, PHONE_RE, uuid } from './common';

const KINDS = ['enterprise', 'individual', 'guest', 'partner'];
const STATUSES = ['potential', 'active', 'at_risk', 'churned'];

export function CustomerForm({ id }: { id?: string }) {
  const [orig, setOrig] = useState<Value | null>(null);
  const [form, setForm] = useState<Value>({
    name: '',
    kind: 'enterprise',
    status: 'potential',
    tier: '',
    phone: '',
    address: '',
    tags: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failed, setFailed] = useState('');
  useEffect(() => {
    if (!id) return;
    store.customer(id).then((c) => {
      if (!c) return;
      setOrig(c);
      setForm({ ...c, tier: c.tier ?? '', phone: c.phone ?? '', address: c.address ?? '', tags: (c.tags ?? []).join(', ') });
    });
  }, [id]);
  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  async function save(e: Event) {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!String(form.name).trim()) errs.name = t('form.required', { field: t('customer.name') });
    if (form.phone && !PHONE_RE.test(String(form.phone).trim())) errs.phone = t('form.badPhone');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const values: Value = {
      name: String(form.name).trim(),
      kind: form.kind,
      status: form.status,
      tier: form.tier || null,
      phone: String(form.phone).trim() || null,
      address: String(form.address).trim() || null,
      tags: String(form.tags)
        .split(/[,，、]/)
        .map((s) => s.trim())
        .filter(Boolean),
    };
    const changes: Value = {};
    for (const [k, v] of Object.entries(values)) {
      if (JSON.stringify(v) !== JSON.stringify(orig?.[k] ?? (k === 'tags' ? [] : null))) changes[k] = v;
    }
    const newId = id ?? uuid();
    try {
      if (!id) await store.mutate('customer.create', { id: newId, ...values });
      else if (Object.keys(changes).length) await store.update('customer', id, changes);
    } catch (err) {
      setFailed(notSaved(err));
      return;
    }
    go(`/customer/${newId}`);
  }

  // Editing: show the form only once the record is loaded, so nothing typed is overwritten.
  if (id && !orig) return null;
  return (
    <Page title={id ? t('customer.edit') : t('customers.new')} back={() => history.back()}>
      <form class="card form" onSubmit={save} noValidate>
        <Field label={t('customer.name')} error={errors.name}>
          <input name="name" value={form.name} onInput={set('name')} required maxLength={200} />
        </Field>
        <Field label={t('customer.kind')}>
          <select name="kind" value={form.kind} onChange={set('kind')}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`kind.${k}` as never)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('customer.status')}>
          <select name="status" value={form.status} onChange={set('status')}>
            {STATUSES.map((k) => (
              <option key={k} value={k}>
                {t(`status.${k}` as never)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('customer.tier')}>
          <select name="tier" value={form.tier} onChange={set('tier')}>
            <option value="">{t('tier.none')}</option>
            {['A', 'B', 'C'].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('customer.phone')} error={errors.phone}>
          <input name="phone" type="tel" inputMode="tel" value={form.phone} onInput={set('phone')} maxLength={40} />
        </Field>
        <Field label={t('customer.address')}>
          <input name="address" value={form.address} onInput={set('address')} maxLength={500} />
        </Field>
        <Field label={t('customer.tags')} hint={t('customer.tagsHint')}>
          <input name="tags" value={form.tags} onInput={set('tags')} />
        </Field>
        {failed && (
          <p class="banner danger" role="alert" data-testid="not-saved">
            {failed}
          </p>
        )}
        <div class="actions">
          <button type="button" class="secondary" onClick={() => history.back()}>
            {t('form.cancel')}
          </button>
          <button type="submit" class="primary">
            {t('form.save')}
          </button>
        </div>
      </form>
    </Page>
  );
}
