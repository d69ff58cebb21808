/**
 * A RolloutEngine backed by an OpenAI-compatible inference server (acereason serve, vLLM,
 * SGLang). Token ids in and out. A version is loaded by writing it as a model directory and
 * asking the server to load it; it counts as held only once the server reports it and a probe
 * prompt's logprobs match the learner's. Every group is checked against the weights stamp the
 * server puts on it (or, for vLLM, the version it reports after the group): a server that lost
 * the version (restarted, or loaded by someone else) is detected, and nothing is stamped wrongly.
 */
import { AceReasonError, ErrorCodes, IntegrityError, ValidationError, type OpenAIEngineSpec, type VersionProbe } from '@acereason/protocol';
import { Backoff, type Logger } from '@acereason/transport';
import type { GeneratedSample, GenerateRequest, HeldVersion, ModelConfig, RolloutEngine, WeightsVersion } from '@acereason/policy';
import { stampNames, versionTag, type Dialect } from './dialect.js';
import { dialectFor } from './dialects.js';
import { ServerClient } from './http.js';
import { VersionDirs } from './version-dir.js';

export interface OpenAIEngineOptions {
  spec: OpenAIEngineSpec;
  /** The request shape, when not the one `spec.weights` implies (evaluating a fixed server through acereason serve's or SGLang's API). */
  dialect?: Dialect;
  /** The run's model and asset files (modelDirFiles): what each version's directory holds (not needed with weights: none). */
  model?: ModelConfig;
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Where versions are written (on the server's host: the server reads them from there). */
  weightsDir: string;
  /** The learner's probe of a version (waits for it). */
  probe?: (version: number, signal?: AbortSignal) => Promise<VersionProbe>;
  /** How long a failing server is retried before a call fails (then the actor hands the task back). */
  retryForMs: number;
  logger: Logger;
}

export class OpenAIRolloutEngine implements RolloutEngine {
  private held: HeldVersion | undefined;
  private readonly client: ServerClient;
  private readonly dialect: Dialect;
  private readonly dirs: VersionDirs | undefined;
  /** The mean absolute probe difference of the last load (for logs and tests). */
  lastProbeDiff: number | undefined;

  constructor(private readonly o: OpenAIEngineOptions) {
    const apiKey = o.spec.apiKeyEnv === undefined ? undefined : process.env[o.spec.apiKeyEnv];
    if (o.spec.apiKeyEnv !== undefined && !apiKey) throw new ValidationError('api_key_env', `the environment variable ${o.spec.apiKeyEnv} is not set or empty`);
    this.client = new ServerClient({ url: o.spec.url, ...(apiKey ? { apiKey } : {}), maxConcurrency: o.spec.maxConcurrency, requestTimeoutMs: o.spec.requestTimeoutMs, retryForMs: o.retryForMs, logger: o.logger });
    this.dialect = o.dialect ?? dialectFor(o.spec.weights);
    if (o.spec.weights !== 'none' && (!o.model || !o.files)) throw new ValidationError('model', 'loading versions into a server needs the run\'s model and asset files');
    this.dirs = o.spec.weights === 'none' || !o.model || !o.files ? undefined : new VersionDirs(o.weightsDir, o.model, o.files);
  }

  heldVersion(): HeldVersion | undefined {
    return this.held;
  }

  async generate(requests: readonly GenerateRequest[], signal?: AbortSignal): Promise<GeneratedSample[]> {
    const expect = this.held;
    if (!expect && this.o.spec.weights !== 'none') throw new IntegrityError('the inference server holds no version of this run yet: load one first');
    const groups = await Promise.all(requests.map((r) => this.generateOne(r, expect, signal)));
    return groups.flat();
  }

  private async generateOne(r: GenerateRequest, expect: HeldVersion | undefined, signal?: AbortSignal): Promise<GeneratedSample[]> {
    if (r.stopWhen) throw new ValidationError('stopWhen', 'stop conditions on decoded text are not sent to an inference server: use stop token ids');
    const parsed = this.dialect.parseGenerate(await this.client.call(this.dialect.generate(this.o.spec.model, r), signal), r);
    if (expect) {
      // The weights stamp on the response, else (vLLM) the version the server reports after the group.
      const stamp = parsed.stamp ?? this.dialect.parseHeld(await this.client.call(this.dialect.held(), signal));
      if (!stampNames(stamp, expect.weightsSha256)) this.lost(expect, stamp);
    }
    return parsed.samples.map((s, sampleIndex) => ({
      sampleKey: r.sampleKey, sampleIndex, tokens: Uint32Array.from(s.tokens), logprobs: Float32Array.from(s.logprobs), entropy: new Float32Array(), finishReason: s.finishReason,
    }));
  }

  /** The server does not serve the version this engine loaded: forget it (the next task reloads) and refuse the group. */
  private lost(expect: HeldVersion, stamp: string | undefined): never {
    if (this.held?.weightsSha256 === expect.weightsSha256) this.held = undefined;
    this.o.logger.warn({ policyVersion: expect.version, serverReports: stamp ?? null }, 'inference server no longer serves the loaded version: group refused, version to be reloaded');
    throw new IntegrityError(`the inference server answered with weights ${stamp ?? '(unreported)'}, not version ${expect.version} (${expect.weightsSha256.slice(0, 12)})`);
  }

  async loadVersion(w: WeightsVersion, signal?: AbortSignal): Promise<HeldVersion> {
    if (!this.dirs) throw new ValidationError('weights', 'weights: none serves fixed weights: no version can be loaded into it');
    const t0 = performance.now();
    const dir = this.dirs.write(w);
    const tag = versionTag(w.version, w.weightsSha256);
    for (const call of this.dialect.load(dir, tag, w.version, w.weightsSha256)) this.dialect.checkLoaded(await this.client.call(call, signal), call);
    const reported = this.dialect.parseHeld(await this.client.call(this.dialect.held(), signal));
    if (!stampNames(reported, w.weightsSha256)) throw new IntegrityError(`after loading version ${w.version} the server reports ${reported ?? 'no version'}`);
    await this.checkProbe(w, signal);
    this.held = { version: w.version, weightsSha256: w.weightsSha256 };
    this.o.logger.info({ policyVersion: w.version, dir, ms: Math.round(performance.now() - t0), probeDiff: this.lastProbeDiff }, 'inference server loaded the version');
    return this.held;
  }

  /** The server's teacher-forced logprobs of the learner's probe sequence must match the learner's. */
  private async checkProbe(w: WeightsVersion, signal?: AbortSignal): Promise<void> {
    if (!this.o.probe) return;
    const p = await this.o.probe(w.version, signal);
    if (p.weightsSha256 !== w.weightsSha256) throw new AceReasonError(ErrorCodes.CONFLICT, `the learner's probe of version ${w.version} is for other weights`, { retryable: false });
    const got = this.dialect.parseProbe(await this.client.call(this.dialect.probe(this.o.spec.model, p.tokens), signal), p.tokens, p.scoreFrom);
    let sum = 0;
    for (let i = 0; i < got.length; i++) sum += Math.abs((got[i] ?? 0) - (p.logprobs[i] ?? 0));
    const diff = got.length ? sum / got.length : 0;
    this.lastProbeDiff = diff;
    if (!(diff <= this.o.spec.probeTolerance)) {
      throw new IntegrityError(`version ${w.version}: the server's probe logprobs differ from the learner's by ${diff.toFixed(5)} on average (probe_tolerance ${this.o.spec.probeTolerance}): it does not serve these weights`);
    }
  }

  /** Resolves once the server answers again (after it was unreachable). */
  async ready(signal?: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 3000 });
    while (!signal?.aborted) {
      try {
        await this.client.once(this.dialect.held(), signal);
        return;
      } catch {
        await backoff.wait(signal);
      }
    }
  }

  async dispose(): Promise<void> {
    // Nothing is held open: each call is one fetch.
  }
}
