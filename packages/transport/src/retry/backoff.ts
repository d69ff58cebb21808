/**
 * The one back-off every retry loop uses: exponential from `initialMs` to `maxMs`, each delay
 * jittered by +-`jitter` (a fraction) so workers that failed together do not retry together.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier?: number;
  /** 0..1: each delay is drawn uniformly from base * [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
  /** Uniform [0, 1) source (tests pass a seeded one). */
  random?: () => number;
}

export class Backoff {
  private base: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly o: BackoffOptions) {
    this.base = o.initialMs;
    this.multiplier = o.multiplier ?? 2;
    this.jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
    this.random = o.random ?? Math.random;
  }

  /** The delay to wait now; the next one grows. */
  next(): number {
    const d = this.base * (1 - this.jitter + 2 * this.jitter * this.random());
    this.base = Math.min(this.o.maxMs, this.base * this.multiplier);
    return Math.min(this.o.maxMs * (1 + this.jitter), Math.max(0, d));
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.base = this.o.initialMs;
  }

  /** Waits `next()` ms; resolves early when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    const ms = this.next();
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
