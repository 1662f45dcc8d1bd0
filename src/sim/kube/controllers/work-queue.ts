// A keyed work queue for controllers: a key queued many times is processed once, one key at a
// time, and a failed or unfinished key is retried after a growing delay.

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = false;
  private stopped = false;
  private readonly process: (key: string) => Promise<boolean>;
  private readonly onError: (key: string, err: unknown) => void;

  /** `process` returns true when the key is done, false to have it retried later. */
  constructor(process: (key: string) => Promise<boolean>, onError: (key: string, err: unknown) => void = () => {}) {
    this.process = process;
    this.onError = onError;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.running) void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running || this.pending.size > 0) await new Promise((r) => setImmediate(r));
  }

  private later(key: string): void {
    const attempt = (this.retries.get(key) ?? 0) + 1;
    this.retries.set(key, attempt);
    const delay = Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        let done = false;
        try {
          done = await this.process(key);
        } catch (err) {
          this.onError(key, err);
        }
        if (done) this.retries.delete(key);
        else this.later(key);
      }
    } finally {
      this.running = false;
    }
  }
}
