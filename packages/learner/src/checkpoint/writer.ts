/**
 * The learner's checkpoint in flight, one at a time. A write runs in the background (async file
 * I/O: the event loop keeps serving) from the engine's own weight and optimizer buffers, no copy,
 * so whoever is about to change those buffers (the next update) awaits `settled()` first: the
 * tensors on disk are always those of the step in state.json.
 */
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from '@acereason/transport';
import { folderBytes, saveCheckpoint, type CheckpointContents } from './checkpoint.js';

export interface WrittenCheckpoint {
  dir: string;
  bytes: number;
  seconds: number;
}

export class CheckpointWriter {
  private writing: Promise<string> | undefined;
  /** The error of a write that failed: the run cannot go on as if it were written (its groups are not acked). */
  private failure: { error: unknown } | undefined;

  constructor(private readonly o: { root: string; keep: number; logger: Logger }) {}

  /** Resolves once no checkpoint is being written; rejects with the error of one that failed (then always). */
  async settled(): Promise<void> {
    await this.writing?.catch(() => undefined);
    if (this.failure) throw this.failure.error;
  }

  /**
   * Starts writing `contents`; `then` runs once it is on disk (acks, waiters), within the write.
   * A failure is logged at once and rejects the returned promise, every later `settled()` and `start()`.
   */
  start(contents: CheckpointContents, then: (w: WrittenCheckpoint) => Promise<void>): Promise<string> {
    if (this.writing) throw new AceReasonError(ErrorCodes.INTERNAL, 'a checkpoint is being written already');
    if (this.failure) throw this.failure.error;
    const t0 = performance.now();
    const step = contents.state.step;
    const write: Promise<string> = saveCheckpoint(this.o.root, contents, this.o.keep)
      .then(async (dir) => {
        await then({ dir, bytes: folderBytes(dir), seconds: (performance.now() - t0) / 1000 });
        return dir;
      })
      .finally(() => {
        if (this.writing === write) this.writing = undefined;
      });
    // Handled here (logged) so a failure nobody awaits yet is not an unhandled rejection.
    write.catch((err: unknown) => {
      this.failure = { error: err };
      this.o.logger.error({ step, err: String(err) }, 'checkpoint write failed; the previous checkpoint stays the latest');
    });
    this.writing = write;
    return write;
  }
}
