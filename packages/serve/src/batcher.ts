/**
 * Request-level batching: every request that arrives while a decode batch runs waits for the
 * next one, and the next one takes all of them, so N concurrent clients share one batch rather
 * than running one after another. (Rows do not join a batch already decoding: that would be
 * token-level continuous batching, which the embedded generator does not do.)
 */
import type { GenerateRequest, GeneratedSample, RolloutEngine } from '@acereason/policy';

interface Pending {
  requests: GenerateRequest[];
  resolve: (s: GeneratedSample[]) => void;
  reject: (e: unknown) => void;
}

export class DecodeBatcher {
  private queue: Pending[] = [];
  private running = false;
  batches = 0;
  lastBatchRequests = 0;

  constructor(private readonly engine: () => RolloutEngine) {}

  generate(requests: GenerateRequest[]): Promise<GeneratedSample[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ requests, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  get busy(): boolean {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    this.running = true;
    // Requests of the same burst (parsed in the same turn of the event loop) start together.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        this.batches++;
        this.lastBatchRequests = batch.length;
        const flat = batch.flatMap((p) => p.requests);
        let out: GeneratedSample[];
        try {
          out = await this.engine().generate(flat);
        } catch (err) {
          // One bad request must not fail the others: run them one by one.
          for (const p of batch) await this.engine().generate(p.requests).then(p.resolve, p.reject);
          void err;
          continue;
        }
        // Samples come back in request order, numSamples each.
        let at = 0;
        for (const p of batch) {
          const n = p.requests.reduce((a, r) => a + r.numSamples, 0);
          p.resolve(out.slice(at, at + n));
          at += n;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
