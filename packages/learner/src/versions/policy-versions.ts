/**
 * The policy versions of a run, in one place: the current version and its weights hash, the
 * recent versions served over gRPC (WeightStore), version -> sha256 for the provenance check of
 * incoming groups, and the announcement of each new version (NATS subject + run-state KV).
 */
import { AceReasonError, codecs, ErrorCodes, Keys, SCHEMA_VERSION, Subjects, type ScoredGroup, type VersionProbe, type WeightsAnnounced } from '@acereason/protocol';
import { makeSnapshot, publishMessage, retryTransient, WeightStore, type jetstreamClient, type Topology, type WeightSnapshot } from '@acereason/transport';
import type { PolicyEngine } from '@acereason/policy';

/** Versions served over gRPC at most (actors up to max_staleness behind still fetch theirs). */
const SERVED = 8;

/**
 * How many versions a run needs served. The current version is served from the engine's own
 * buffers (no copy) until the next update; each older one is a copy of the weights (2.4 GB for a
 * 0.6B model in fp32). Async: tasks are stamped at most max_staleness versions behind the current
 * one, plus one for an actor still downloading the version just replaced. Strictly on-policy
 * (max_staleness 0) the version being trained on is needed by no task once its groups are
 * collected, so only the current one is served and no copy is kept.
 */
export function servedVersions(maxStaleness: number): number {
  return maxStaleness === 0 ? 1 : Math.min(SERVED, maxStaleness + 2);
}
/** Versions whose hash is remembered for the provenance check. */
const REMEMBERED = 16;

export interface VersionRef {
  version: number;
  sha256: string;
}

export class PolicyVersions {
  readonly store: WeightStore;
  private readonly sha = new Map<number, string>();
  private now: VersionRef;
  private address = '';
  /** The served version whose tensors are the engine's buffers (until `beforeUpdate`). */
  private live: WeightSnapshot | undefined;

  constructor(
    private readonly o: { runId: string; engine: PolicyEngine; js: ReturnType<typeof jetstreamClient>; topology: Topology; served?: number },
    current: VersionRef,
    /** Versions tasks in flight were stamped with (from a checkpoint): their groups stay genuine. */
    stamped: readonly VersionRef[] = [],
  ) {
    this.store = new WeightStore(o.served ?? SERVED);
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

  /**
   * Makes the engine's weights version `version`: served, current, announced. Returns the seconds
   * it took. With `expectSha256` (a resumed version: the hash its checkpoint recorded), weights
   * that hash otherwise are refused before anything is served or announced.
   */
  async publish(version: number, expectSha256?: string): Promise<number> {
    const t0 = performance.now();
    // The engine's buffers as they are (hashed here, once per version); a copy only from an engine without views.
    const views = this.o.engine.weightViews?.();
    const tensors = (views ?? this.o.engine.exportWeights()).map((t) => ({ name: t.name, dtype: 'F32', shape: [...t.shape], data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
    const snap = makeSnapshot(this.o.runId, version, tensors);
    const sha256 = snap.manifest.weightsSha256;
    if (expectSha256 && sha256 !== expectSha256) {
      throw new AceReasonError(ErrorCodes.INTEGRITY, `version ${version}: the weights loaded hash to ${sha256.slice(0, 16)}..., the checkpoint's state.json records ${expectSha256.slice(0, 16)}...`, { field: 'state.json:weightsSha256' });
    }
    this.beforeUpdate();
    this.store.put(snap);
    this.live = views ? snap : undefined;
    this.sha.set(version, sha256);
    for (const v of [...this.sha.keys()]) if (v < version - REMEMBERED) this.sha.delete(v);
    this.now = { version, sha256 };
    const a: WeightsAnnounced = {
      schema: SCHEMA_VERSION, kind: 'WeightsAnnounced', runId: this.o.runId, id: `${this.o.runId}.w.${version}.${sha256.slice(0, 8)}`, createdAtMs: Date.now(),
      version, weightsSha256: sha256, address: this.address, totalBytes: snap.manifest.totalBytes,
    };
    // The probe first: an actor that hears of the version may look for it at once.
    await this.publishProbe(version, sha256);
    await publishMessage(this.o.js, Subjects.weights(this.o.runId), codecs.WeightsAnnounced, a);
    await retryTransient(() => this.o.topology.runState.put(Keys.latestWeights(this.o.runId), codecs.WeightsAnnounced.encode(a)));
    return (performance.now() - t0) / 1000;
  }

  /**
   * Call before the engine's weights change in place (a train step): the current version stops
   * being a view of them. With older versions served (max_staleness > 0) it is copied now, the one
   * copy a replaced version costs; with one version served it stops being served until the next is
   * published (requests for it meanwhile get a retryable NOT_FOUND). A transfer of it in progress
   * reads the copy from the next tensor on; bytes already queued that change under it fail the
   * actor's sha256 check, and the actor fetches again.
   */
  beforeUpdate(): void {
    const snap = this.live;
    if (snap === undefined) return;
    this.live = undefined;
    if (this.store.keep <= 1) {
      this.store.drop(snap.manifest.version);
      return;
    }
    snap.tensors.forEach((t, i) => (snap.tensors[i] = { ...t, data: t.data.slice() }));
  }

  /** The version's logprobs of the run's probe sequence, for actors whose rollouts come from an inference server. */
  private async publishProbe(version: number, sha256: string): Promise<void> {
    const tokens = probeTokens(this.o.runId, this.o.engine.model.vocabSize, this.o.engine.model.maxPositions);
    const [scored] = await this.o.engine.score([{ tokens, scoreFrom: PROBE_SCORE_FROM }]);
    if (!scored) return;
    const p: VersionProbe = {
      schema: SCHEMA_VERSION, kind: 'VersionProbe', runId: this.o.runId, id: `${this.o.runId}.probe.${version}`, createdAtMs: Date.now(),
      version, weightsSha256: sha256, tokens, scoreFrom: PROBE_SCORE_FROM, logprobs: scored.logprobs,
    };
    const kv = this.o.topology.runState;
    await retryTransient(() => kv.put(Keys.probe(this.o.runId, version), codecs.VersionProbe.encode(p)));
    if (version >= REMEMBERED) await kv.delete(Keys.probe(this.o.runId, version - REMEMBERED)).catch(() => undefined);
  }
}

const PROBE_LENGTH = 32;
const PROBE_SCORE_FROM = 8;

/** A fixed pseudo-random token sequence of the run (the same for every version, so versions differ only by weights). */
export function probeTokens(runId: string, vocabSize: number, maxPositions: number): Uint32Array {
  let h = 2166136261;
  for (const ch of runId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const out = new Uint32Array(Math.min(PROBE_LENGTH, maxPositions));
  for (let i = 0; i < out.length; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    out[i] = h % vocabSize;
  }
  return out;
}
