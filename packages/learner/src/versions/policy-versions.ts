/**
 * The policy versions of a run, in one place: the current version and its weights hash, the
 * recent versions served over gRPC (WeightStore), version -> sha256 for the provenance check of
 * incoming groups, and the announcement of each new version (NATS subject + run-state KV).
 */
import { codecs, Keys, SCHEMA_VERSION, Subjects, type ScoredGroup, type WeightsAnnounced } from '@acereason/protocol';
import { makeSnapshot, publishMessage, retryTransient, WeightStore, type jetstreamClient, type Topology } from '@acereason/transport';
import type { PolicyEngine } from '@acereason/policy';

/** Versions served over gRPC (actors up to max_staleness behind still fetch theirs). */
const SERVED = 8;
/** Versions whose hash is remembered for the provenance check. */
const REMEMBERED = 16;

export interface VersionRef {
  version: number;
  sha256: string;
}

export class PolicyVersions {
  readonly store = new WeightStore(SERVED);
  private readonly sha = new Map<number, string>();
  private now: VersionRef;
  private address = '';

  constructor(
    private readonly o: { runId: string; engine: PolicyEngine; js: ReturnType<typeof jetstreamClient>; topology: Topology },
    current: VersionRef,
    /** Versions tasks in flight were stamped with (from a checkpoint): their groups stay genuine. */
    stamped: readonly VersionRef[] = [],
  ) {
    this.now = current;
    for (const v of stamped) this.sha.set(v.version, v.sha256);
  }

  get version(): number {
    return this.now.version;
  }

  get sha256(): string {
    return this.now.sha256;
  }

  /** Where actors fetch weights (host:port of the learner's gRPC server), set once it listens. */
  serveAt(address: string): void {
    this.address = address;
  }

  /** Whether the group's weights hash is the one of the version it claims. */
  isGenuine(g: ScoredGroup): boolean {
    return this.sha.get(g.group.policyVersion) === g.group.weightsSha256;
  }

  /** Makes the engine's weights version `version`: served, current, announced. Returns the seconds it took. */
  async publish(version: number): Promise<number> {
    const t0 = performance.now();
    const tensors = this.o.engine.exportWeights().map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
    const snap = makeSnapshot(this.o.runId, version, tensors);
    const sha256 = snap.manifest.weightsSha256;
    this.store.put(snap);
    this.sha.set(version, sha256);
    for (const v of [...this.sha.keys()]) if (v < version - REMEMBERED) this.sha.delete(v);
    this.now = { version, sha256 };
    const a: WeightsAnnounced = {
      schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: this.o.runId, id: `${this.o.runId}.w.${version}.${sha256.slice(0, 8)}`, createdAtMs: Date.now(),
      version, weightsSha256: sha256, address: this.address, totalBytes: snap.manifest.totalBytes,
    };
    await publishMessage(this.o.js, Subjects.weights(this.o.runId), codecs.WeightsAnnounced, a);
    await retryTransient(() => this.o.topology.runState.put(Keys.latestWeights(this.o.runId), codecs.WeightsAnnounced.encode(a)));
    return (performance.now() - t0) / 1000;
  }
}
