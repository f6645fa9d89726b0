import { useEffect, useState } from 'preact/hooks';
import { go } from '../app/router';
import { store } from '../app/store';
import { t } from '../i18n';
import type { Value } from '../sync/engine';
import { Field, notSaved, Page, PHONE_RE, uuid } from './common';

export function ContactForm({ id, customerId }: { id?: string; customerId?: string }) {
  const [orig, setOrig] = useState<Value | null>(null);
  const [form, setForm] = useState<Value>({ name: '', title: '', phone: '', birthday: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failed, setFailed] = useState('');
  useEffect(() => {
    if (!id) return;
    store.contact(id).then((c) => {
      if (!c) return;
      setOrig(c);
      setForm({ name: c.name, title: c.title ?? '', phone: c.phone ?? '', birthday: c.birthday ?? '' });
    });
  }, [id]);
  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const owner = customerId ?? orig?.customerId;

  async function save(e: Event) {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!String(form.name).trim()) errs.name = t('form.required', { field: t('contact.name') });
    if (form.phone && !PHONE_RE.test(String(form.phone).trim())) errs.phone = t('form.badPhone');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const values: Value = {
      name: String(form.name).trim(),
      title: String(form.title).trim() || null,
      phone: String(form.phone).trim() || null,
      birthday: form.birthday || null,
    };
    try {
      if (!id) {
        await store.mutate('contact.create', { id: uuid(), customerId: owner, ...values });
      } else {
        const changes: Value = {};
        for (const [k, v] of Object.entries(values)) if (v !== (orig?.[k] ?? null)) changes[k] = v;
        if (Object.keys(changes).length) await store.update('contact', id, changes);
      }
    } catch (err) {
      setFailed(notSaved(err));
      return;
    }
    go(`/customer/${owner}`);
  }

  // Editing: show the form only once the record is loaded, so nothing typed is overwritten.
  if (id && !orig) return null;
  return (
    <Page title={id ? t('contact.edit') : t('contact.new')} back={() => history.back()}>
      <form class="card form" onSubmit={save} noValidate>
        <Field label={t('contact.name')} error={errors.name}>
          <input name="contactName" value={form.name} onInput={set('name')} maxLength={200} />
        </Field>
        <Field label={t('contact.title')}>
          <input name="title" value={form.title} onInput={set('title')} maxLength={500} />
        </Field>
        <Field label={t('contact.phone')} error={errors.phone}>
          <input name="contactPhone" type="tel" inputMode="tel" value={form.phone} onInput={set('phone')} maxLength={40} />
        </Field>
        <Field label={t('contact.birthday')}>
          <input name="birthday" type="date" value={form.birthday} onInput={set('birthday')} />
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
