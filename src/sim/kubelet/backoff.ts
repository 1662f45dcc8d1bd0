// Exponential back-off per key, as the kubelet keeps it for sandbox creation and container restarts
// (flowcontrol.Backoff): the delay starts at `initialMs`, doubles after every failure up to `maxMs`,
// and is forgotten after a success or after twice `maxMs` without failures.

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { delayMs: number; lastFailure: number }>();

  constructor(initialMs: number, maxMs: number, now: () => number = Date.now) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#now = now;
  }

  /** Records a failure; returns the delay before the next try. */
  failed(key: string): number {
    const now = this.#now();
    const e = this.#entries.get(key);
    const delayMs = !e || now - e.lastFailure > 2 * this.#maxMs ? this.#initialMs : Math.min(e.delayMs * 2, this.#maxMs);
    this.#entries.set(key, { delayMs, lastFailure: now });
    return delayMs;
  }

  /** Milliseconds left before the key may be tried again (0: now). */
  remaining(key: string): number {
    const e = this.#entries.get(key);
    if (!e) return 0;
    return Math.max(0, e.lastFailure + e.delayMs - this.#now());
  }

  /** The delay the last failure set (0 when there is none). */
  delay(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every key that starts with the prefix (a pod's keys when it goes). */
  resetPrefix(prefix: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}
