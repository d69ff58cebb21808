/**
 * The actor's policy weights: which version its rollout engine holds, and fetching another over
 * gRPC (sha256-checked, with retry and back-off) before the engine loads it (atomically, and
 * only as the version whose digest the weights have).
 */
import { AceReasonError, ErrorCodes, IntegrityError, WeightServiceDefinition } from '@acereason/protocol';
import { Backoff, createGrpcClient, fetchWeights, HostWeightCache, defaultWeightCacheDir, type Logger, type TlsFiles, type TypedClient, type WeightSnapshot } from '@acereason/transport';
import type { NamedTensor, RolloutEngine } from '@acereason/policy';

export interface HeldWeights {
  version: number;
  sha256: string;
}

function toNamedTensors(s: WeightSnapshot): NamedTensor[] {
  return s.tensors.map((t) => {
    if (t.dtype !== 'F32') throw new AceReasonError(ErrorCodes.INVALID, `tensor ${t.name}: dtype ${t.dtype} is not supported by the embedded engine`);
    // A view when the bytes are 4-byte aligned (the engine copies them into its own buffers anyway), else an aligned copy.
    const b = t.data.byteOffset % 4 === 0 ? t.data : new Uint8Array(t.data);
    return { name: t.name, dtype: 'F32', shape: t.shape, data: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) };
  });
}

/**
 * The host's shared weight download (see HostWeightCache): on by default, so actors on one host
 * fetch each version once. `ACEREASON_WEIGHTS_CACHE=off` turns it off, a path moves it.
 */
function hostCacheFromEnv(): HostWeightCache | undefined {
  const v = process.env.ACEREASON_WEIGHTS_CACHE;
  if (v === 'off') return undefined;
  return new HostWeightCache(v && v !== '' ? v : defaultWeightCacheDir());
}

export class WeightsHolder {
  private client: TypedClient<typeof WeightServiceDefinition> | undefined;
  private clientAddress: string | undefined;
  private inflight = new Map<string, Promise<HeldWeights>>();
  /** A newer version number for the weights the engine holds (an update that changed nothing). */
  private alias: HeldWeights | undefined;
  /** Time spent fetching and loading, for the trajectory's timings. */
  lastFetchMs = 0;
  private readonly hostCache = hostCacheFromEnv();

  constructor(private readonly engine: RolloutEngine, private readonly runId: string, private readonly logger: Logger, private readonly tls?: TlsFiles) {}

  /** What the engine holds now (the engine is the one owner of that fact; it may lose a version). */
  get held(): HeldWeights | undefined {
    const h = this.engine.heldVersion();
    if (!h) return undefined;
    if (this.alias?.sha256 === h.weightsSha256 && this.alias.version > h.version) return this.alias;
    return { version: h.version, sha256: h.weightsSha256 };
  }

  private clientFor(address: string): TypedClient<typeof WeightServiceDefinition> {
    if (!this.client || this.clientAddress !== address) {
      this.client?.close();
      this.client = createGrpcClient(WeightServiceDefinition, { address, timeoutMs: 10_000, streamTimeoutMs: 600_000, ...(this.tls ? { tls: this.tls } : {}) });
      this.clientAddress = address;
    }
    return this.client;
  }

  /**
   * Makes sure the engine holds `sha256` (the weights of `version`). Concurrent callers for the
   * same hash share one fetch. Throws a non-retryable CONFLICT when the learner serves different
   * weights under that version (the task is stale: its version was rebuilt after a learner restart).
   */
  async ensure(address: string, version: number, sha256: string, signal?: AbortSignal): Promise<HeldWeights> {
    // Identical weights under a newer version number (e.g. an update that changed nothing) are that version.
    const held = this.held;
    if (held?.sha256 === sha256) {
      if (version > held.version) this.alias = { version, sha256 };
      return this.held ?? held;
    }
    let p = this.inflight.get(sha256);
    if (!p) {
      p = this.fetchAndLoad(address, version, sha256, signal).finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, p);
    }
    return p;
  }

  private async fetchAndLoad(address: string, version: number, sha256: string, signal?: AbortSignal): Promise<HeldWeights> {
    const t0 = performance.now();
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
    for (let attempt = 1; ; attempt++) {
      try {
        const snap = await fetchWeights(this.clientFor(address), { runId: this.runId, version, ...(this.hostCache ? { hostCache: this.hostCache } : {}), ...(this.tls ? { tls: this.tls } : {}) }, signal ? { signal } : {});
        if (snap.manifest.weightsSha256 !== sha256) {
          throw new AceReasonError(ErrorCodes.CONFLICT, `learner serves ${snap.manifest.weightsSha256.slice(0, 12)} as version ${version}, the task wants ${sha256.slice(0, 12)}`, { retryable: false });
        }
        const h = await this.engine.loadVersion({ version, weightsSha256: sha256, tensors: toNamedTensors(snap) });
        this.alias = undefined;
        this.lastFetchMs = performance.now() - t0;
        this.logger.info({ policyVersion: version, sha: sha256.slice(0, 12), ms: Math.round(this.lastFetchMs), bytes: snap.manifest.totalBytes }, 'weights loaded');
        return { version: h.version, sha256: h.weightsSha256 };
      } catch (err) {
        const e = err instanceof AceReasonError ? err : new AceReasonError(ErrorCodes.UNAVAILABLE, String(err), { cause: err });
        const retry = (e.retryable || e instanceof IntegrityError) && attempt < 8 && !signal?.aborted;
        if (e.code === ErrorCodes.NOT_FOUND && !e.retryable) throw e;
        if (!retry) throw e;
        this.logger.warn({ attempt, err: e.message, policyVersion: version }, 'weight fetch failed, retrying');
        await backoff.wait(signal);
      }
    }
  }

  close(): void {
    this.client?.close();
  }
}
