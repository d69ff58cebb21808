/**
 * A verifier's code tests: fetched from the code-tests object store by the digest a group's
 * reference names, checked (size, sha256, shape) and kept in a byte-bounded LRU, so a prompt's
 * tests cross the network once per verifier while they are in use. A reference whose tests are
 * missing, differ from their digest or are malformed is INVALID: the group is dead-lettered with
 * that reason; a NATS failure is thrown as it is and the group is retried.
 */
import { AceReasonError, decodeCodeTests, ErrorCodes, Objects, toAceReasonError, type CheckableReference, type CodeTests, type Reference } from '@acereason/protocol';
import { getObjectChecked, ObjectCache, type ObjectStore } from '@acereason/transport';

export interface CodeTestsSourceOptions {
  store: ObjectStore;
  /** Bytes of tests held in memory (default 256 MiB). */
  cacheBytes?: number;
  /** The largest tests object accepted (default 256 MiB). */
  maxObjectBytes?: number;
}

export class CodeTestsSource {
  private readonly cache: ObjectCache<CodeTests>;

  constructor(private readonly o: CodeTestsSourceOptions) {
    this.maxObjectBytes = o.maxObjectBytes ?? 256 << 20;
    this.cache = new ObjectCache<CodeTests>({ maxBytes: o.cacheBytes ?? 256 << 20 });
  }

  private readonly maxObjectBytes: number;

  get counts(): { hits: number; misses: number; evictions: number; bytes: number } {
    return { ...this.cache.counts, bytes: this.cache.bytes };
  }

  /** The reference with its tests in hand (math references are returned as they are). */
  async resolve(reference: Reference): Promise<CheckableReference> {
    if (reference.type === 'math') return reference;
    const ref = reference.tests;
    let tests: CodeTests;
    try {
      tests = await this.cache.get(ref.sha256, async () => {
        const bytes = await getObjectChecked(this.o.store, { name: Objects.codeTests(ref.sha256), sha256: ref.sha256, bytes: ref.bytes }, { maxBytes: this.maxObjectBytes });
        return { value: decodeCodeTests(bytes), bytes: bytes.length };
      });
    } catch (err) {
      const e = toAceReasonError(err);
      const bad = e.code === ErrorCodes.NOT_FOUND || e.code === ErrorCodes.INTEGRITY || e.code === ErrorCodes.INVALID;
      if (!bad) throw err;
      throw new AceReasonError(ErrorCodes.INVALID, `reference.tests of ${ref.dataset}/${ref.promptId} (sha256 ${ref.sha256.slice(0, 12)}..): ${e.message}`, { field: 'reference.tests', cause: err });
    }
    const { tests: _ref, ...rest } = reference;
    return { ...rest, tests };
  }
}
