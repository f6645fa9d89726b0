// Counting a site: scan a location label, then its assets. Every read is checked on the phone
// (check character, foreign codes, duplicates) and becomes an append-only scan in the outbox, so it
// works with no signal; progress per location is computed from the expected list and everyone's scans.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { go } from '../app/router';
import { status, store } from '../app/store';
import { t } from '../i18n';
import type { CameraScanner } from '../scanner/camera';
import { signal as feedback, type Sound, unlockAudio } from '../scanner/feedback';
import { classify, progress, type Read } from '../scanner/stocktake';
import { judgeTag } from '../scanner/tagcode';
import type { Value } from '../sync/engine';
import { Field, notSaved, Page, useStore, uuid } from './common';

const CONDITIONS = ['ok', 'damaged', 'worn', 'missing_parts', 'other'] as const;
/** The same text read again this soon is the camera still looking at the same label. */
const REPEAT_MS = 2500;

interface Data {
  st: Value | null;
  items: Value[];
  scans: Value[];
}

async function load(id: string): Promise<Data> {
  const [st, items, scans] = await Promise.all([store.stocktake(id), store.stocktakeItems(id), store.stocktakeScans(id)]);
  return { st, items, scans };
}

function soundFor(r: Read): Sound {
  if (r.kind === 'location') return 'location';
  if (r.kind === 'expected' || r.kind === 'mislocated' || r.kind === 'surplus') return 'ok';
  if (r.kind === 'duplicate') return 'duplicate';
  return 'error';
}

export function StocktakeScan({ id }: { id: string }) {
  const data = useStore(() => load(id), [id]);
  const [locationId, setLocationId] = useState<string | null>(() => sessionStorage.getItem(`outpost.loc.${id}`));
  const [last, setLast] = useState<Read | null>(null);
  const [manual, setManual] = useState('');
  const [manualError, setManualError] = useState('');
  const [condition, setCondition] = useState<(typeof CONDITIONS)[number]>('ok');
  const [note, setNote] = useState('');
  const [camera, setCamera] = useState<CameraScanner | null>(null);
  const [cameraError, setCameraError] = useState('');
  const [torch, setTorch] = useState(false);
  const [photo, setPhoto] = useState<{ sha256: string; url: string } | null>(null);
  const [photoError, setPhotoError] = useState('');
  const [saveError, setSaveError] = useState('');
  const video = useRef<HTMLVideoElement>(null);
  const items = useMemo(() => new Map((data?.items ?? []).map((i) => [i.tag, i])), [data?.items]);
  // What the camera's callback reads: always this render's values (it was set up on an earlier one).
  const state = useRef({ data, items, locationId, condition, note, photo, seen: new Map<string, number>(), recorded: [] as Value[] });
  state.current = { ...state.current, data, items, locationId, condition, note, photo };
  // Scans recorded since the store last answered: counted as made until it shows them.
  // biome-ignore lint/correctness/useExhaustiveDependencies: data is the trigger: a new answer from the store resets the list
  useEffect(() => {
    state.current.recorded = [];
  }, [data]);
  useEffect(() => () => camera?.stop(), [camera]);

  const st = data?.st;
  if (!data)
    return (
      <Page title={t('nav.stocktake')} back={() => go('/stocktake')}>
        {null}
      </Page>
    );
  if (!st)
    return (
      <Page title={t('nav.stocktake')} back={() => go('/stocktake')}>
        <p class="empty">{t('stocktake.gone')}</p>
      </Page>
    );

  const me = status.value.user?.id;
  const mine = (st.assignees ?? []).find((a: Value) => a.userId === me);
  const finished = !!st.finishedByMe || !!mine?.finishedAt;
  const canScan = !!mine && st.state !== 'draft';
  const prog = progress(st as never, data.items, data.scans);
  const here = prog.locations.find((p) => p.id === locationId);
  const location = (st.locations ?? []).find((l: Value) => l.id === locationId);
  const myScans = data.scans.filter((s) => !s.undone && (s.pending || s.scannedBy === me));
  const lastMine = myScans[myScans.length - 1];

  function chooseLocation(next: string | null) {
    setLocationId(next);
    if (next) sessionStorage.setItem(`outpost.loc.${id}`, next);
    else sessionStorage.removeItem(`outpost.loc.${id}`);
  }

  /** What was read, or null when it could not be recorded on this phone (the reason is on screen). */
  async function handle(text: string, typed = false): Promise<Read | null> {
    const s = state.current;
    const now = Date.now();
    if (!typed) {
      // The camera sees a label many times a second, and two labels in view alternate: each text
      // counts once until it has been out of sight for a moment.
      const at = s.seen.get(text);
      s.seen.set(text, now);
      if (at !== undefined && now - at < REPEAT_MS) return { kind: 'duplicate', tag: text, item: null };
      if (s.seen.size > 500) s.seen.clear();
    }
    const d = s.data as Data;
    const read = classify(text, d.st as never, s.items, [...d.scans, ...s.recorded], s.locationId);
    if (read.kind === 'location') {
      chooseLocation(read.location.id);
      state.current.locationId = read.location.id;
    } else if (read.kind === 'expected' || read.kind === 'mislocated' || read.kind === 'surplus') {
      const made = { tag: read.tag, locationId: s.locationId, undone: false };
      s.recorded.push(made);
      try {
        await store.mutate('stocktake.scan', {
          id: uuid(),
          stocktakeId: id,
          tag: read.tag,
          locationId: s.locationId,
          scannedAt: new Date().toISOString(),
          condition: s.condition,
          ...(s.note.trim() ? { note: s.note.trim() } : {}),
          ...(s.photo ? { photo: s.photo.sha256 } : {}),
        });
      } catch (err) {
        // Not recorded: say so at once (the error sound, not the "counted" one), keep the note and
        // photo for the next try, and let the same label be scanned again straight away.
        s.recorded = s.recorded.filter((r) => r !== made);
        s.seen.delete(text);
        setSaveError(notSaved(err));
        feedback('error');
        setLast(null);
        return null;
      }
      setSaveError('');
      setNote('');
      setPhoto(null); // a photo goes with one scan
    }
    feedback(soundFor(read));
    setLast(read);
    return read;
  }

  async function toggleCamera() {
    unlockAudio();
    if (camera) {
      camera.stop();
      setCamera(null);
      setTorch(false);
      return;
    }
    setCameraError('');
    try {
      const { startCamera } = await import('../scanner/camera');
      const c = await startCamera(video.current as HTMLVideoElement, (text) => void handle(text));
      setCamera(c);
    } catch (e) {
      setCameraError(t('scan.noCamera', { reason: (e as Error).name || String(e) }));
    }
  }

  async function submitManual(e: Event) {
    e.preventDefault();
    unlockAudio();
    const text = manual.trim();
    if (!text) return;
    let tagText = text;
    const judged = judgeTag(text, st?.codes?.asset);
    if (judged.reason !== null && judged.reason !== 'check-failed') {
      // not shaped like a tag: maybe the serial number of an asset whose label is torn
      const bySerial = data?.items.find((i) => i.serial && i.serial.toLowerCase() === text.toLowerCase());
      if (bySerial) tagText = bySerial.tag;
    }
    const read = await handle(tagText, true);
    if (!read) return; // not recorded: the typed text stays for another try
    const fmt = st?.codes?.asset;
    if (read.kind === 'misread') setManualError(t('scan.checkFailed'));
    else if (read.kind === 'foreign' && judged.reason === 'wrong-length' && fmt)
      setManualError(t('scan.tagLength', { n: fmt.prefix.length + fmt.digits + 1 }));
    else if (read.kind === 'foreign') setManualError(t('scan.notTagOrSerial'));
    else if (read.kind === 'need-location')
      setManualError(t('scan.needLocation')); // kept: scan the place, then add it
    else {
      setManualError('');
      setManual('');
    }
  }

  async function takePhoto(e: Event) {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setPhotoError('');
    try {
      const jpeg = await shrink(file);
      const sha256 = await store.attachPhoto(await jpeg.arrayBuffer(), 'image/jpeg');
      setPhoto({ sha256, url: URL.createObjectURL(jpeg) });
    } catch (err) {
      setPhotoError(t('scan.photoFailed', { reason: (err as Error).message }));
    }
  }

  async function undo() {
    if (lastMine) await store.mutate('stocktake.undo', { id: lastMine.id });
  }

  async function finish() {
    if (confirm(t('stocktake.finishConfirm'))) await store.mutate('stocktake.finish', { stocktakeId: id });
  }

  return (
    <Page title={st.name} back={() => go('/stocktake')}>
      <div class="card">
        <div class="progress" data-testid="overall-progress" data-found={prog.total.found} data-expected={prog.total.expected}>
          <strong>{t('stocktake.found', { found: prog.total.found, expected: prog.total.expected })}</strong>
          <progress max={prog.total.expected || 1} value={prog.total.found} />
        </div>
        {st.state === 'closed' && <p class="badge block">{t('stocktake.closedNote')}</p>}
        {finished && <p class="badge block">{t('stocktake.finishedMine')}</p>}
      </div>
      {canScan && (
        <div class="card scan-box">
          <Field label={t('scan.location')}>
            <select data-testid="location" value={locationId ?? ''} onChange={(e) => chooseLocation(e.currentTarget.value || null)}>
              <option value="">{t('scan.scanLocationFirst')}</option>
              {(st.locations ?? []).map((l: Value) => (
                <option key={l.id} value={l.id}>
                  {l.name} ({l.code})
                </option>
              ))}
            </select>
          </Field>
          {here && (
            <p class="muted" data-testid="here-progress" data-found={here.found} data-expected={here.expected} data-missing={here.missing}>
              {t('scan.here', { found: here.found, expected: here.expected, missing: here.missing })}
            </p>
          )}
          <LastRead read={last} location={location} />
          <div class={`camera ${camera ? 'on' : ''}`}>
            <video ref={video} muted playsInline aria-label={t('scan.camera')} />
          </div>
          <div class="actions wrap">
            <button type="button" class="primary" data-testid="camera" onClick={toggleCamera}>
              {camera ? t('scan.stop') : t('scan.start')}
            </button>
            {camera?.torchSupported && (
              <button type="button" class="secondary" onClick={async () => setTorch((await camera.setTorch(!torch)) ? !torch : torch)}>
                {torch ? t('scan.torchOff') : t('scan.torchOn')}
              </button>
            )}
          </div>
          {cameraError && (
            <p class="error" role="alert">
              {cameraError}
            </p>
          )}
          {saveError && (
            <p class="banner danger" role="alert" data-testid="not-saved">
              {saveError}
            </p>
          )}
          <form onSubmit={submitManual} class="manual">
            <Field label={t('scan.manual')} hint={t('scan.manualHint')} error={manualError}>
              <input
                name="manual"
                data-testid="manual"
                autocomplete="off"
                autocapitalize="characters"
                value={manual}
                onInput={(e) => setManual(e.currentTarget.value)}
              />
            </Field>
            <button type="submit" class="secondary wide">
              {t('scan.add')}
            </button>
          </form>
          <div class="grid2">
            <Field label={t('scan.condition')}>
              <select value={condition} onChange={(e) => setCondition(e.currentTarget.value as never)}>
                {CONDITIONS.map((c) => (
                  <option key={c} value={c}>
                    {t(`condition.${c}` as never)}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t('scan.note')}>
              <input name="note" value={note} maxLength={500} onInput={(e) => setNote(e.currentTarget.value)} />
            </Field>
          </div>
          <div class="photo-row">
            <label class="button secondary">
              {photo ? t('scan.photoAgain') : t('scan.photo')}
              <input type="file" accept="image/*" capture="environment" data-testid="photo" class="visually-hidden" onChange={takePhoto} />
            </label>
            {photo && <img src={photo.url} alt={t('scan.photoAlt')} class="thumb" data-testid="photo-preview" />}
          </div>
          {photo && <p class="muted">{t('scan.photoNext')}</p>}
          {photoError && (
            <p class="error" role="alert">
              {photoError}
            </p>
          )}
          <button type="button" class="secondary wide" data-testid="undo" disabled={!lastMine || st.state === 'closed'} onClick={undo}>
            {lastMine ? t('scan.undo', { tag: lastMine.tag }) : t('scan.undoNone')}
          </button>
        </div>
      )}
      <Reconciliation id={id} />
      <h2>{t('stocktake.byLocation')}</h2>
      <ul class="list" data-testid="locations">
        {prog.locations.map((p) => (
          <li key={p.id ?? 'none'} class="row" data-location={p.code} data-found={p.found} data-expected={p.expected}>
            <span class="row-main">
              <strong>{p.name || t('stocktake.noLocation')}</strong>
              <span class="muted">
                {t('stocktake.locationLine', { found: p.found, expected: p.expected, missing: p.missing })}
                {p.extra > 0 && ` · ${t('stocktake.extra', { n: p.extra })}`}
              </span>
              <progress max={p.expected || 1} value={p.found} />
            </span>
          </li>
        ))}
      </ul>
      <h2>{t('stocktake.recent')}</h2>
      <ul class="list" data-testid="scans">
        {data.scans
          .slice(-20)
          .reverse()
          .map((s) => (
            <li key={s.id} class={`row scan ${s.undone ? 'undone' : ''}`} data-tag={s.tag}>
              <span class="row-main">
                <strong>{s.tag}</strong>
                <span class="muted">
                  {[
                    items.get(s.tag)?.name ?? t('scan.surplus'),
                    (st.locations ?? []).find((l: Value) => l.id === s.locationId)?.name,
                    s.condition !== 'ok' ? t(`condition.${s.condition}` as never) : null,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </span>
              </span>
              {s.pending && <span class="badge">{t('customer.pending')}</span>}
              {s.late && <span class="badge danger">{t('scan.late')}</span>}
              {s.undone && <span class="badge">{t('scan.undone')}</span>}
            </li>
          ))}
      </ul>
      {canScan && !finished && st.state === 'open' && (
        <button type="button" class="primary wide" data-testid="finish" onClick={finish}>
          {t('stocktake.finish')}
        </button>
      )}
    </Page>
  );
}

function LastRead({ read, location }: { read: Read | null; location: Value | undefined }) {
  if (!read) return <p class="last-read muted">{location ? t('scan.ready') : t('scan.scanLocationFirst')}</p>;
  const cls =
    read.kind === 'expected' || read.kind === 'location'
      ? 'ok'
      : read.kind === 'mislocated' || read.kind === 'surplus' || read.kind === 'duplicate'
        ? 'warn'
        : 'bad';
  let text = '';
  if (read.kind === 'location') text = t('scan.atLocation', { name: read.location.name });
  else if (read.kind === 'expected') text = t('scan.expected', { tag: read.tag, name: read.item?.name ?? '' });
  else if (read.kind === 'mislocated') text = t('scan.mislocated', { tag: read.tag, name: read.item?.name ?? '' });
  else if (read.kind === 'surplus') text = t('scan.surplusRead', { tag: read.tag });
  else if (read.kind === 'duplicate') text = t('scan.duplicate', { tag: read.tag });
  else if (read.kind === 'need-location') text = t('scan.needLocation');
  else if (read.kind === 'misread') text = t('scan.misread');
  else if (read.kind === 'other-location') text = t('scan.otherLocation', { code: read.code });
  else text = t('scan.foreign');
  return (
    <p class={`last-read ${cls}`} role="status" data-testid="last-read" data-kind={read.kind}>
      {text}
    </p>
  );
}

/** The server's reconciliation (book against every stocktaker's synced scans), when online. */
function Reconciliation({ id }: { id: string }) {
  const online = !!status.value.online;
  const report = useStore(async () => {
    if (!online) return null;
    try {
      const r = await store.request(`/api/stocktakes/${id}/reconciliation`, undefined, 'GET');
      return r.status === 200 ? r.body : null;
    } catch {
      return null;
    }
  }, [id, online, status.value.lastSyncAt]);
  if (!report) return null;
  const n = report.totals;
  return (
    <div class="card" data-testid="reconciliation" data-match-rate={report.matchRate ?? ''}>
      <h2>{t('stocktake.reconciliation')}</h2>
      <dl class="facts">
        <div>
          <dt>{t('stocktake.matchRate')}</dt>
          <dd>
            <strong>{report.matchRate === null ? '—' : `${(report.matchRate * 100).toFixed(1)} %`}</strong>
          </dd>
        </div>
        <div>
          <dt>{t('stocktake.results')}</dt>
          <dd>{t('stocktake.resultLine', n)}</dd>
        </div>
        {(n.seenTwice > 0 || n.condition > 0 || report.lateScans > 0) && (
          <div>
            <dt>{t('stocktake.flags')}</dt>
            <dd>{t('stocktake.flagLine', { ...n, late: report.lateScans })}</dd>
          </div>
        )}
      </dl>
    </div>
  );
}

/** A photo as a JPEG of at most 1,600 px on its longer side (a phone's 12 MP photo is ~4 MB). */
async function shrink(file: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  (canvas.getContext('2d') as CanvasRenderingContext2D).drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no JPEG encoder'))), 'image/jpeg', 0.8));
}
