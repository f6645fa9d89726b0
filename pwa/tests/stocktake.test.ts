import { describe, expect, it } from 'vitest';
import { classify, progress } from '../src/scanner/stocktake';
import { makeTag } from '../src/scanner/tagcode';

const asset = { prefix: 'AS', digits: 8 };
const loc = { prefix: 'LC', digits: 8 };
const L1 = { id: 'l1', code: makeTag(1, loc), name: '机房 A' };
const L2 = { id: 'l2', code: makeTag(2, loc), name: '仓库 B' };
const campaign = { codes: { asset, location: loc }, locations: [L1, L2] };
const items = [1, 2, 3].map((n) => ({ tag: makeTag(n, asset), locationId: n === 3 ? 'l2' : 'l1', name: `asset ${n}` }));
const byTag = new Map(items.map((i) => [i.tag, i]));

describe('classify', () => {
  it('takes a location label, then assets: expected, mislocated, surplus', () => {
    expect(classify(`https://x.example/t/${L1.code}`, campaign, byTag, [], null)).toEqual({ kind: 'location', location: L1 });
    expect(classify(items[0].tag, campaign, byTag, [], null)).toEqual({ kind: 'need-location', tag: items[0].tag });
    expect(classify(items[0].tag.toLowerCase(), campaign, byTag, [], 'l1').kind).toBe('expected');
    expect(classify(items[2].tag, campaign, byTag, [], 'l1').kind).toBe('mislocated');
    expect(classify(makeTag(99, asset), campaign, byTag, [], 'l1')).toEqual({ kind: 'surplus', tag: makeTag(99, asset), item: null });
  });

  it('knows a duplicate (same tag, same place, not undone), a misread and a foreign code', () => {
    const scans = [{ tag: items[0].tag, locationId: 'l1', undone: false }];
    expect(classify(items[0].tag, campaign, byTag, scans, 'l1').kind).toBe('duplicate');
    expect(classify(items[0].tag, campaign, byTag, scans, 'l2').kind).toBe('mislocated'); // seen in a second place
    expect(classify(items[0].tag, campaign, byTag, [{ ...scans[0], undone: true }], 'l1').kind).toBe('expected');
    const wrong = items[0].tag.slice(0, -1) + (items[0].tag.endsWith('A') ? 'B' : 'A');
    expect(classify(wrong, campaign, byTag, [], 'l1').kind).toBe('misread');
    expect(classify('https://weixin.qq.com/r/abc', campaign, byTag, [], 'l1').kind).toBe('foreign');
    expect(classify(makeTag(7, loc), campaign, byTag, [], 'l1')).toEqual({ kind: 'other-location', code: makeTag(7, loc) });
  });
});

describe('progress', () => {
  it('counts expected, found and missing per location, and reads of assets booked elsewhere', () => {
    const scans = [
      { tag: items[0].tag, locationId: 'l1', undone: false },
      { tag: items[2].tag, locationId: 'l1', undone: false }, // booked at l2, found at l1
      { tag: items[1].tag, locationId: 'l1', undone: true },
      { tag: makeTag(50, asset), locationId: 'l2', undone: false },
      { tag: makeTag(50, asset), locationId: 'l2', undone: false }, // a second stocktaker's read: counted once
    ];
    const { total, locations } = progress(campaign, items, scans);
    const [p1, p2] = locations;
    expect([p1.expected, p1.found, p1.missing, p1.extra]).toEqual([2, 1, 1, 1]);
    expect([p2.expected, p2.found, p2.missing, p2.extra]).toEqual([1, 1, 0, 1]);
    expect([total.expected, total.found, total.missing]).toEqual([3, 2, 1]);
  });
});
