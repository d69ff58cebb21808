/**
 * A policy version as a Hugging Face model directory on this host's disk (config.json from the
 * run's model over the run's own config.json, safetensors, the run's tokenizer and generation
 * files), the form every inference server loads.
 * The directory is named by version and digest and written atomically; older ones are removed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HF_FILES, hfConfigFromModel, validateModelConfig, writeHfModelDir, type ModelConfig, type WeightsVersion } from '@acereason/policy';

export class VersionDirs {
  private readonly config: Record<string, unknown>;
  private readonly files: Record<string, string | Uint8Array>;

  /** `files`: the run's asset files (see modelDirFiles); a config.json among them is the base of the one written. */
  constructor(private readonly root: string, model: ModelConfig, files: Readonly<Record<string, string | Uint8Array>>, private readonly keep = 2) {
    mkdirSync(root, { recursive: true });
    const { [HF_FILES.config]: base, ...rest } = files;
    const parsed: unknown = base === undefined ? {} : JSON.parse(typeof base === 'string' ? base : Buffer.from(base).toString('utf8'));
    this.config = hfConfigFromModel(validateModelConfig(model), typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : {});
    this.files = rest;
  }

  dirOf(version: number, sha256: string): string {
    return join(this.root, `v${String(version).padStart(7, '0')}-${sha256.slice(0, 16)}`);
  }

  /** Writes the version's directory unless it is there already; returns its path. */
  write(w: WeightsVersion): string {
    const dir = this.dirOf(w.version, w.weightsSha256);
    if (!existsSync(dir)) {
      writeHfModelDir(dir, {
        config: this.config,
        tensors: w.tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data })),
        files: this.files,
        metadata: { acereason_version: String(w.version), acereason_sha256: w.weightsSha256 },
      });
    }
    this.prune(dir);
    return dir;
  }

  private prune(current: string): void {
    const dirs = readdirSync(this.root).filter((n) => /^v\d{7}-[0-9a-f]{16}$/.test(n)).sort();
    for (const n of dirs.slice(0, Math.max(0, dirs.length - this.keep))) if (join(this.root, n) !== current) rmSync(join(this.root, n), { recursive: true, force: true });
  }
}
