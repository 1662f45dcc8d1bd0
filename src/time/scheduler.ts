// Time for everything in the system that waits or acts later: a clock (now, sleep) and timers (after,
// every, cancel). It is passed in, never taken from the globals, so the same pool manager, node agent
// and request budget run on real time in the agent and on virtual time (virtual-scheduler.ts) in tests
// and in the fleet benchmark, where thousands of them share one process. This folder imports nothing:
// the AWS layer, the agent and the benchmarks all build on it.

declare const TIMER: unique symbol;

/** A timer set by after or every; only the scheduler that made it can cancel it. */
export interface Timer {
  readonly [TIMER]: true;
}

export interface TimerOptions {
  /**
   * On real time, the timer does not keep the process alive by itself (Node's unref): housekeeping such
   * as pool ticks and clean-up schedules, which must not stop the agent from exiting. Virtual time
   * ignores it.
   */
  readonly unref?: boolean;
}

export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `run` once, `ms` from now (at once, after the current work yields, for 0 or less). */
  after(ms: number, run: () => void, options?: TimerOptions): Timer;
  /** Runs `run` every `ms` (at least 1) from now on, the first time `ms` from now, until cancelled. */
  every(ms: number, run: () => void, options?: TimerOptions): Timer;
  /** Stops a timer; one that has run (after), was cancelled already, or undefined is ignored. */
  cancel(timer: Timer | undefined): void;
  /** Resolves `ms` from now. */
  sleep(ms: number): Promise<void>;
}

/** What code that only waits needs of a scheduler (the AWS layer's retries, budget and polling). */
export type Clock = Pick<Scheduler, "now" | "sleep">;

/** Delays as Node's timers take them: a negative or unknown delay is "now". */
export function delayOf(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Real time: Date.now and Node's timers. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  after(ms, run, options) {
    const timer = setTimeout(run, delayOf(ms));
    if (options?.unref) timer.unref();
    return timer as unknown as Timer;
  },
  every(ms, run, options) {
    const timer = setInterval(run, Math.max(1, delayOf(ms)));
    if (options?.unref) timer.unref();
    return timer as unknown as Timer;
  },
  cancel(timer) {
    // clearTimeout clears intervals too.
    if (timer !== undefined) clearTimeout(timer as unknown as NodeJS.Timeout);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, delayOf(ms))),
};
