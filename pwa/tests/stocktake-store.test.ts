import { describe, expect, it } from 'vitest';
import { engine, page } from './helpers';

const ST = {
  id: 's1',
  name: '盘点',
  state: 'open',
  locations: [{ id: 'l1', code: 'LC00000001Q', name: '机房' }],
  assignees: [],
  version: 2,
};
const item = (n: number, loc = 'l1') => ({
  id: `i${n}`,
  stocktakeId: 's1',
  tag: `AS0000000${n}`,
  name: `asset ${n}`,
  locationId: loc,
  version: 2,
});
const scan = (id: string, tag: string, at: string) => ({
  id,
  stocktakeId: 's1',
  tag,
  locationId: 'l1',
  scannedAt: at,
  condition: 'ok',
  undone: false,
  late: false,
  version: 3,
});

describe('stocktake rows on the phone', () => {
  it('lists a campaign’s expected list and everyone’s scans, mine pending included, in order', async () => {
    const { e } = await engine();
    e.applyPage(
      page({
        patch: [
          { op: 'put', entity: 'stocktake', id: 's1', value: ST },
          ...[3, 1, 2].map((n) => ({ op: 'put', entity: 'stocktake_item', id: `i${n}`, value: item(n) })),
          { op: 'put', entity: 'stocktake_item', id: 'other', value: { ...item(9), stocktakeId: 's2' } },
          { op: 'put', entity: 'stocktake_scan', id: 'x1', value: scan('x1', 'AS00000002', '2026-11-23T10:00:00Z') },
        ],
      }) as never,
    );
    expect(e.stocktakeItems('s1').map((i) => i.tag)).toEqual(['AS00000001', 'AS00000002', 'AS00000003']);
    e.mutate('stocktake.scan', { id: 'm1', stocktakeId: 's1', tag: 'AS00000001', locationId: 'l1', scannedAt: '2026-11-23T10:05:00Z' });
    const scans = e.stocktakeScans('s1');
    expect(scans.map((s) => [s.id, !!s.pending, s.undone])).toEqual([
      ['x1', false, false],
      ['m1', true, false],
    ]);
    expect(e.outbox('pending').map((m) => m.name)).toEqual(['stocktake.scan']);
    e.mutate('stocktake.undo', { id: 'm1' });
    expect(e.stocktakeScans('s1').find((s) => s.id === 'm1')?.undone).toBe(true);
    e.mutate('stocktake.finish', { stocktakeId: 's1' });
    expect(e.view('stocktake', 's1')?.finishedByMe).toBe(true);
    expect(e.assetByTag('AS00000003')?.name).toBe('asset 3');
  });

  it('keeps a pending scan over a pull and drops the overlay once the server has it', async () => {
    const { e } = await engine();
    e.applyPage(page({ patch: [{ op: 'put', entity: 'stocktake', id: 's1', value: ST }] }) as never);
    e.mutate('stocktake.scan', { id: 'm1', stocktakeId: 's1', tag: 'AS00000001', locationId: 'l1', scannedAt: '2026-11-23T10:05:00Z' });
    // a pull that does not confirm it yet: the scan stays, pending
    e.applyPage(
      page({
        cookie: 'c2',
        patch: [{ op: 'put', entity: 'stocktake_scan', id: 'x1', value: scan('x1', 'AS00000002', '2026-11-23T10:00:00Z') }],
      }) as never,
    );
    expect(e.stocktakeScans('s1').map((s) => [s.id, !!s.pending])).toEqual([
      ['x1', false],
      ['m1', true],
    ]);
    // the server applied it: the synced row replaces the optimistic one
    e.applyPage(
      page({
        cookie: 'c3',
        lastMutationIds: { 'dev-1': 1 },
        patch: [
          {
            op: 'put',
            entity: 'stocktake_scan',
            id: 'm1',
            value: { ...scan('m1', 'AS00000001', '2026-11-23T10:05:00Z'), scannedBy: 'u1' },
          },
        ],
      }) as never,
    );
    expect(e.stocktakeScans('s1').map((s) => [s.id, !!s.pending, s.scannedBy ?? null])).toEqual([
      ['x1', false, null],
      ['m1', false, 'u1'],
    ]);
    expect(e.outbox()).toEqual([]);
  });
});

describe('photos', () => {
  it('keeps a photo by its hash until the server has it, once however often it is added', async () => {
    const { e } = await engine();
    const bytes = new Uint8Array([255, 216, 255, 224, 1, 2, 3]);
    e.addAttachment('ab'.repeat(32), 'image/jpeg', bytes);
    e.addAttachment('ab'.repeat(32), 'image/jpeg', bytes);
    expect(e.status().pendingPhotos).toBe(1);
    const [p] = e.pendingAttachments();
    expect([p.sha256, p.type, [...p.bytes]]).toEqual(['ab'.repeat(32), 'image/jpeg', [...bytes]]);
    e.attachmentUploaded(p.sha256);
    expect(e.status().pendingPhotos).toBe(0);
    expect(e.pendingAttachments()).toEqual([]);
  });
});
