// Virtual time: a Scheduler whose clock moves only when told to, so an hour of a pool manager's life
// runs in milliseconds and every run of a test sees the same sequence of events.
//
// Timers run in the order they are due (ties: the order they were set), each one seeing now() equal
// to its own due time. Between two timers the scheduler lets pending work settle (promise continuations
// and whatever they start, over a number of event-loop turns), so async code that awaits between
// timers, and timers that set timers, behave as they would on real time. Nothing runs on its own:
// `advance` (for N ms) and `runUntilIdle` move time.

import { delayOf, type Scheduler, type Timer, type TimerOptions } from "./scheduler.ts";

export interface VirtualSchedulerOptions {
  /** The clock's start, ms since the epoch. Default 1_700_000_000_000 (November 2023). */
  readonly start?: number;
  /**
   * Event-loop turns given to pending work after each timer and before time moves on. Code whose
   * awaits are promises alone (fakes on this scheduler) settles in one; the default leaves room for
   * fakes that hop through setImmediate or resolved I/O. A fleet of thousands of pool managers on
   * promise-only fakes can take fewer.
   */
  readonly settleTurns?: number;
}

interface Entry {
  due: number;
  readonly seq: number;
  readonly run: () => void;
  /** For every: the period; undefined for after. */
  readonly period: number | undefined;
  cancelled: boolean;
  /** The id it was set with; an every keeps its id across its runs. */
  readonly id: number;
}

export class VirtualScheduler implements Scheduler {
  #now: number;
  #seq = 0;
  #ids = 0;
  readonly #settleTurns: number;
  /** A binary heap on (due, seq). Cancelled entries stay until they reach the top. */
  readonly #heap: Entry[] = [];
  /** Live entries by id: what cancel finds and `pending` counts. */
  readonly #live = new Map<number, Entry>();

  constructor(options: VirtualSchedulerOptions = {}) {
    this.#now = options.start ?? 1_700_000_000_000;
    this.#settleTurns = Math.max(1, options.settleTurns ?? 20);
  }

  // Arrow properties, so `now: scheduler.now` can be handed on unbound (a datastore's clock).
  readonly now = (): number => this.#now;

  after(ms: number, run: () => void, _options?: TimerOptions): Timer {
    return this.#set(delayOf(ms), run, undefined);
  }

  every(ms: number, run: () => void, _options?: TimerOptions): Timer {
    const period = Math.max(1, delayOf(ms));
    return this.#set(period, run, period);
  }

  cancel(timer: Timer | undefined): void {
    if (timer === undefined) return;
    const entry = this.#live.get((timer as unknown as { id: number }).id);
    if (entry === undefined) return;
    entry.cancelled = true;
    this.#live.delete(entry.id);
  }

  readonly sleep = (ms: number): Promise<void> => new Promise((resolve) => void this.after(ms, resolve));

  /** Timers set and not yet run or cancelled (an every counts once). */
  get pending(): number {
    return this.#live.size;
  }

  /** When the next timer is due, or undefined when none is set. */
  get nextDue(): number | undefined {
    return this.#peek()?.due;
  }

  /** Runs for `ms` of virtual time: every timer due on the way, then the clock stands at now + ms. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + delayOf(ms));
  }

  /** As advance, up to a point in time (never backwards). */
  async advanceTo(time: number): Promise<void> {
    const until = Math.max(this.#now, time);
    for (;;) {
      await this.settle();
      const next = this.#peek();
      if (next === undefined || next.due > until) break;
      this.#runNext();
    }
    this.#now = until;
    await this.settle();
  }

  /**
   * Runs timers until none is left, or until the next is due more than `maxMs` after the start (an
   * every never leaves, so it runs up to that bound). The clock stays at the last timer run; returns
   * the virtual time that took.
   */
  async runUntilIdle(maxMs = 3_600_000): Promise<number> {
    const start = this.#now;
    for (;;) {
      await this.settle();
      const next = this.#peek();
      if (next === undefined || next.due - start > maxMs) break;
      this.#runNext();
    }
    await this.settle();
    return this.#now - start;
  }

  /** Lets pending promise continuations and what they start run, without moving the clock. */
  async settle(): Promise<void> {
    for (let i = 0; i < this.#settleTurns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  #set(delay: number, run: () => void, period: number | undefined): Timer {
    const entry: Entry = { due: this.#now + delay, seq: this.#seq++, run, period, cancelled: false, id: this.#ids++ };
    this.#live.set(entry.id, entry);
    this.#push(entry);
    return { id: entry.id } as unknown as Timer;
  }

  #runNext(): void {
    const entry = this.#pop()!;
    this.#now = Math.max(this.#now, entry.due);
    if (entry.period === undefined) {
      this.#live.delete(entry.id);
    } else {
      // Re-armed before it runs, so it can cancel itself; due times stay on the grid it was set on.
      const again: Entry = { ...entry, due: entry.due + entry.period, seq: this.#seq++ };
      this.#live.set(again.id, again);
      this.#push(again);
    }
    entry.run();
  }

  #peek(): Entry | undefined {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    return this.#heap[0];
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Entry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
