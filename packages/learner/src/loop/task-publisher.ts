/**
 * Puts RolloutTasks on the TASKS stream. A code prompt's tests go to the code-tests object store
 * first, once per digest (content-addressed: an object already there is not uploaded again, also
 * after a restart), so every message of the loop carries only a reference to them and a verifier
 * can always fetch what a task points at.
 */
import { codecs, encodeCodeTests, Objects, Subjects, type RolloutTask } from '@acereason/protocol';
import { publishMessage, putObjectOnce, type jetstreamClient, type Logger, type ObjectStore } from '@acereason/transport';
import type { Prompt } from '../data/dataset.js';

export interface TaskPublisherOptions {
  runId: string;
  js: ReturnType<typeof jetstreamClient>;
  codeTests: ObjectStore;
  logger: Logger;
}

export class TaskPublisher {
  /** Digests stored (or being stored) by this process. */
  private readonly stored = new Map<string, Promise<void>>();
  readonly counts = { testsUploaded: 0, testsPresent: 0, testsBytesUploaded: 0 };

  constructor(private readonly o: TaskPublisherOptions) {}

  /** Publishes each task after making sure its prompt's tests (if any) are in the object store. */
  async publish(items: readonly { task: RolloutTask; prompt: Prompt }[]): Promise<void> {
    await Promise.all(items.map(({ prompt }) => this.storeTests(prompt)));
    for (const { task } of items) await publishMessage(this.o.js, Subjects.task(this.o.runId, task.domain), codecs.RolloutTask, task);
  }

  private storeTests(p: Prompt): Promise<void> {
    if (p.reference.type !== 'code' || !p.tests) return Promise.resolve();
    const ref = p.reference.tests;
    let pending = this.stored.get(ref.sha256);
    if (!pending) {
      const bytes = encodeCodeTests(p.tests);
      pending = putObjectOnce(this.o.codeTests, Objects.codeTests(ref.sha256), bytes).then(({ object, written }) => {
        if (object.sha256 !== ref.sha256) throw new Error(`tests of ${ref.dataset}/${ref.promptId}: sha256 ${object.sha256} differs from the reference's ${ref.sha256}`);
        if (written) {
          this.counts.testsUploaded++;
          this.counts.testsBytesUploaded += object.bytes;
        } else this.counts.testsPresent++;
      });
      // A failed upload is tried again by the next publish.
      pending.catch(() => this.stored.delete(ref.sha256));
      this.stored.set(ref.sha256, pending);
    }
    return pending;
  }
}
