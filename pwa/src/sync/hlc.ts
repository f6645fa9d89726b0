// Hybrid logical clock stamps, the same format as sync_protocol/hlc.py:
// "<ms:015d>:<counter:05d>:<node>", so string order is clock order.

const RE = /^(\d{15}):(\d{5}):([A-Za-z0-9._-]{1,64})$/;
const MAX_COUNTER = 99_999;

export interface Hlc {
  ms: number;
  counter: number;
  node: string;
}

export function format(h: Hlc): string {
  return `${String(h.ms).padStart(15, '0')}:${String(h.counter).padStart(5, '0')}:${h.node}`;
}

export function parse(s: string): Hlc {
  const m = RE.exec(s);
  if (!m) throw new Error(`not an HLC stamp: ${s}`);
  return { ms: Number(m[1]), counter: Number(m[2]), node: m[3] };
}

export function isValid(s: unknown): boolean {
  return typeof s === 'string' && RE.test(s);
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The next stamp after `last` (or none) for a local event at wall time `wallMs`. */
export function tick(last: string | null, wallMs: number, node: string): string {
  const prev = last ? parse(last) : { ms: 0, counter: 0, node };
  let ms = prev.ms;
  let counter = prev.counter;
  if (wallMs > ms) {
    ms = wallMs;
    counter = 0;
  } else {
    counter += 1;
    if (counter > MAX_COUNTER) {
      ms += 1;
      counter = 0;
    }
  }
  return format({ ms, counter, node });
}

export function clamp(stamp: string, serverMs: number, maxAheadMs = 5 * 60 * 1000): string {
  const h = parse(stamp);
  return h.ms > serverMs + maxAheadMs ? format({ ms: serverMs, counter: h.counter, node: h.node }) : stamp;
}
