// When to sync. No Background Sync (Safari and Firefox lack it): on start, on `online`, on return
// to the foreground, on an SSE poke, after a local change, and on a timer with backoff.
export type Runner = () => Promise<void>;

export class Scheduler {
  private running = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;

  constructor(
    private run: Runner,
    private opts = { idleMs: 30_000, minBackoffMs: 2_000, maxBackoffMs: 300_000 },
  ) {}

  /** Ask for a sync soon; concurrent requests collapse into one more run. */
  kick(delayMs = 0): void {
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.running = true;
    let ok = true;
    try {
      await this.run();
      this.failures = 0;
    } catch {
      ok = false;
      this.failures++;
    } finally {
      this.running = false;
    }
    if (this.again) {
      this.again = false;
      this.kick(ok ? 0 : this.backoff());
      return;
    }
    this.kick(ok ? this.opts.idleMs : this.backoff());
  }

  backoff(): number {
    const ms = this.opts.minBackoffMs * 2 ** Math.max(0, this.failures - 1);
    return Math.min(this.opts.maxBackoffMs, ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
