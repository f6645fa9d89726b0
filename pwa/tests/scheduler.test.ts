// When the worker syncs (src/sync/scheduler.ts): kicks collapse, failures back off and double up to
// a ceiling, a success goes back to the idle interval.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../src/sync/scheduler';

const OPTS = { idleMs: 30_000, minBackoffMs: 2_000, maxBackoffMs: 16_000 };

describe('Scheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('retries a failing sync with doubling backoff up to the ceiling, then idles after a success', async () => {
    const runs: number[] = [];
    let fail = true;
    const s = new Scheduler(async () => {
      runs.push(Date.now());
      if (fail) throw new Error('offline');
    }, OPTS);
    const t0 = Date.now();
    s.kick();
    await vi.advanceTimersByTimeAsync(2_000 + 4_000 + 8_000 + 16_000 + 16_000);
    expect(runs.map((t) => t - t0)).toEqual([0, 2_000, 6_000, 14_000, 30_000, 46_000]);
    fail = false;
    await vi.advanceTimersByTimeAsync(16_000); // the next retry succeeds
    expect(runs.length).toBe(7);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(runs.length).toBe(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.length).toBe(8);
    s.stop();
  });

  it('runs once more, not once per kick, when kicked during a run', async () => {
    let release: () => void = () => undefined;
    let runs = 0;
    const s = new Scheduler(async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
    }, OPTS);
    s.kick();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) s.kick();
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(2);
    s.stop();
  });

  it('a kick brings a backed-off retry forward', async () => {
    let runs = 0;
    const s = new Scheduler(async () => {
      runs++;
      throw new Error('offline');
    }, OPTS);
    s.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    s.kick(100); // e.g. the browser says it is online again
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    s.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toBe(2);
  });
});
