/**
 * Continuous batching: one decode loop shared by concurrent callers. A call's rows wait in a
 * queue and join the running decode batch at its next step (prefilled together, then decoded
 * alongside the rows already there), up to `maxRows` rows at once; a finished row leaves at
 * once and its call resolves when its last row ends. A sample depends only on its seed, sample
 * key and index, not on the rows around it (up to float rounding of the batched matmuls).
 */
import { sampleOf, type DecodeBatch, type Row } from './decode-batch.js';
import type { Generator } from './generator.js';
import type { GenerateRequest, GeneratedSample } from './types.js';

interface Call {
  rows: Row[];
  left: number;
  resolve: (s: GeneratedSample[]) => void;
  reject: (e: unknown) => void;
}

export interface ContinuousStats {
  /** Decode steps run. */
  steps: number;
  /** Prefill runs (groups of rows joining). */
  prefills: number;
  /** Rows that joined a batch while other rows were decoding in it. */
  joinedMidDecode: number;
  /** The most rows decoded in one step. */
  peakRows: number;
}

export class ContinuousDecoder {
  /** Calls not yet turned into rows (that happens in the loop, against the generator that runs them). */
  private incoming: Array<{ requests: readonly GenerateRequest[]; call: Omit<Call, 'rows' | 'left'> }> = [];
  private queue: Row[] = [];
  private readonly calls = new Map<Row, Call>();
  private loop: Promise<void> | undefined;
  private active = 0;
  readonly stats: ContinuousStats = { steps: 0, prefills: 0, joinedMidDecode: 0, peakRows: 0 };

  /**
   * `generator()` is the engine's current generation state: a batch keeps the one it started
   * with, and rows wait for the next batch when the engine has loaded other weights since.
   */
  constructor(private readonly generator: () => Promise<Generator>, readonly maxRows: number) {
    if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be an integer >= 1, got ${maxRows}`);
  }

  /** Rows decoding now plus rows waiting. */
  get load(): { decoding: number; waiting: number } {
    return { decoding: this.active, waiting: this.queue.length + this.incoming.length };
  }

  get idle(): boolean {
    return this.loop === undefined;
  }

  /** Joins the running batch at its next step (or starts one). */
  generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]> {
    return new Promise((resolve, reject) => {
      this.incoming.push({ requests, call: { resolve, reject } });
      this.loop ??= this.run();
    });
  }

  /** Turns the calls made since into queued rows (a call the model refuses fails here, alone). */
  private accept(gen: Generator): void {
    for (const { requests, call } of this.incoming.splice(0)) {
      let rows: Row[];
      try {
        rows = gen.rows(requests);
      } catch (err) {
        call.reject(err);
        continue;
      }
      if (rows.length === 0) {
        call.resolve([]);
        continue;
      }
      const c: Call = { ...call, rows, left: rows.length };
      for (const r of rows) this.calls.set(r, c);
      this.queue.push(...rows);
    }
  }

  private async run(): Promise<void> {
    try {
      // Calls of the same burst (made in the same turn of the event loop) start together.
      await new Promise((r) => setImmediate(r));
      while (this.queue.length > 0 || this.incoming.length > 0) {
        const gen = await this.generator();
        const batch = gen.batch();
        try {
          await this.decode(batch, gen);
        } catch (err) {
          // The engine failed: every call with a row in this batch fails; queued calls go on.
          for (const r of batch.live) this.fail(r, err);
        } finally {
          this.active = 0;
        }
      }
    } finally {
      // In the same turn as the last check of the queue: a call made after it starts a new loop.
      this.loop = undefined;
    }
  }

  private async decode(batch: DecodeBatch, gen: Generator): Promise<void> {
    for (;;) {
      const room = this.maxRows - batch.size;
      if (room > 0 && (this.queue.length > 0 || this.incoming.length > 0) && (await this.generator()) === gen) {
        this.accept(gen);
        const group = this.queue.splice(0, room);
        if (group.length > 0) {
          if (batch.size > 0) this.stats.joinedMidDecode += group.length;
          this.stats.prefills++;
          this.finish(batch, await batch.admit(group));
        }
      }
      if (batch.size === 0) return;
      this.active = batch.size;
      this.stats.peakRows = Math.max(this.stats.peakRows, batch.size);
      this.stats.steps++;
      this.finish(batch, await batch.step());
    }
  }

  private finish(batch: DecodeBatch, done: readonly Row[]): void {
    for (const r of done) {
      if (r.error !== undefined) {
        this.fail(r, r.error, batch);
        continue;
      }
      const call = this.calls.get(r);
      if (call === undefined) continue;
      this.calls.delete(r);
      if (--call.left === 0) call.resolve(call.rows.map(sampleOf));
    }
  }

  /** Fails `r`'s call: its other rows leave the batch and the queue. */
  private fail(r: Row, err: unknown, batch?: DecodeBatch): void {
    const call = this.calls.get(r);
    if (call === undefined) return;
    const mine = new Set(call.rows);
    for (const x of call.rows) this.calls.delete(x);
    this.queue = this.queue.filter((x) => !mine.has(x));
    batch?.drop(mine);
    call.reject(err);
  }
}
