// What a read means during a stocktake, and the progress per location: plain functions over the
// campaign's rows as the phone holds them (its expected list, everyone's scans), so they work offline.
import type { Value } from '../sync/engine';
import { parseScan, type TagFormat } from './tagcode';

export type Read =
  | { kind: 'location'; location: Value }
  | { kind: 'expected' | 'mislocated' | 'surplus'; tag: string; item: Value | null }
  | { kind: 'duplicate'; tag: string; item: Value | null }
  | { kind: 'need-location'; tag: string }
  | { kind: 'misread'; text: string }
  | { kind: 'foreign'; text: string }
  | { kind: 'other-location'; code: string };

export interface Campaign {
  codes: { asset: TagFormat; location: TagFormat };
  locations: Value[];
}

/** What a scanned (or typed) text is for this campaign, given the scans so far and where I am. */
export function classify(text: string, campaign: Campaign, items: Map<string, Value>, scans: Value[], locationId: string | null): Read {
  const asTag = parseScan(text, campaign.codes.asset);
  if (asTag.kind === 'tag') {
    const tag = asTag.tag;
    if (!locationId && campaign.locations.length > 0) return { kind: 'need-location', tag };
    const item = items.get(tag) ?? null;
    if (scans.some((s) => s.tag === tag && !s.undone && (s.locationId ?? null) === locationId)) return { kind: 'duplicate', tag, item };
    if (!item) return { kind: 'surplus', tag, item };
    return { kind: item.locationId && locationId && item.locationId !== locationId ? 'mislocated' : 'expected', tag, item };
  }
  const asLocation = parseScan(text, campaign.codes.location);
  if (asLocation.kind === 'tag') {
    const location = campaign.locations.find((l) => l.code === asLocation.tag);
    return location ? { kind: 'location', location } : { kind: 'other-location', code: asLocation.tag };
  }
  if (asTag.kind === 'misread' || asLocation.kind === 'misread') return { kind: 'misread', text };
  return { kind: 'foreign', text };
}

export interface LocationProgress {
  id: string | null;
  code: string;
  name: string;
  expected: number;
  found: number;
  missing: number;
  extra: number;
}

/** Per location: assets the book puts there, how many of them were found (anywhere), how many are
 * still missing, and reads there of assets the book puts elsewhere or not at all. */
export function progress(campaign: Campaign, items: Value[], scans: Value[]): { total: LocationProgress; locations: LocationProgress[] } {
  const seen = new Set(scans.filter((s) => !s.undone).map((s) => s.tag));
  const byId = new Map<string | null, LocationProgress>();
  const entry = (id: string | null, code: string, name: string) => {
    const known = byId.get(id);
    if (known) return known;
    const p: LocationProgress = { id, code, name, expected: 0, found: 0, missing: 0, extra: 0 };
    byId.set(id, p);
    return p;
  };
  for (const l of campaign.locations) entry(l.id, l.code, l.name);
  const expectedAt = new Map<string, string | null>();
  for (const it of items) {
    const p = byId.get(it.locationId ?? null) ?? entry(it.locationId ?? null, '', '');
    expectedAt.set(it.tag, it.locationId ?? null);
    p.expected++;
    if (seen.has(it.tag)) p.found++;
    else p.missing++;
  }
  // Reads at a place of assets the book puts elsewhere or nowhere: each tag once per place, however
  // many stocktakers read it; an asset the book gives no place is simply found (as the server says).
  const extra = new Set<string>();
  for (const s of scans) {
    if (s.undone || !s.locationId) continue;
    if (expectedAt.has(s.tag) && expectedAt.get(s.tag) === null) continue;
    if (expectedAt.get(s.tag) !== s.locationId && !extra.has(`${s.locationId}|${s.tag}`)) {
      extra.add(`${s.locationId}|${s.tag}`);
      const p = byId.get(s.locationId);
      if (p) p.extra++;
    }
  }
  const locations = [...byId.values()];
  const total: LocationProgress = { id: null, code: '', name: '', expected: 0, found: 0, missing: 0, extra: 0 };
  for (const p of locations) {
    total.expected += p.expected;
    total.found += p.found;
    total.missing += p.missing;
    total.extra += p.extra;
  }
  return { total, locations };
}
