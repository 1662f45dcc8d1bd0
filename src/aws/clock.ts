// Time as the AWS layer sees it: "now" and "sleep". Everything that waits (token budget, backoffs,
// IMDS polling) takes a Clock, so unit tests drive it with a virtual clock instead of real time.

export interface Clock {
  now(): number; // ms since the epoch
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A clock that moves only when told to. `sleep` resolves once `advance` (or `run`) has moved time past
 * its deadline; sleepers wake in deadline order, each seeing `now()` equal to its own deadline.
 */
export class VirtualClock implements Clock {
  #now: number;
  #sleepers: { at: number; seq: number; wake: () => void }[] = [];
  #seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#sleepers.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, wake: resolve });
    });
  }

  /** Sleepers waiting now. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by ms, waking every sleeper due on the way (letting each one's continuation run). */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await settle();
      this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#sleepers[0];
      if (next === undefined || next.at > until) break;
      this.#sleepers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.wake();
    }
    this.#now = until;
    await settle();
  }

  /** Runs until no sleeper is left (or maxMs have passed), returning the time that took. */
  async run(maxMs = 3_600_000): Promise<number> {
    const start = this.#now;
    for (;;) {
      await settle();
      this.#sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#sleepers[0];
      if (next === undefined || next.at - start > maxMs) break;
      this.#sleepers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.wake();
    }
    await settle();
    return this.#now - start;
  }
}

/** Lets pending promise continuations run (several turns, since chains of awaits need several). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
