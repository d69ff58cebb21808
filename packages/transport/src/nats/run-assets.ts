/**
 * A run's asset files (tokenizer.json, tokenizer_config.json, config.json ...) through the assets
 * object store: the learner puts them at start under their sha256 (once: a resumed learner
 * uploads nothing new) and lists them in the RunSpec; workers fetch and check every one (size and
 * sha256) before they join.
 */
import { AceReasonError, ErrorCodes, Objects, type RunAsset } from '@acereason/protocol';
import { getObjectChecked, putObjectOnce, sha256Hex, type ObjectStore } from './object-store.js';

export async function publishRunAssets(store: ObjectStore, files: Readonly<Record<string, Uint8Array>>): Promise<{ assets: RunAsset[]; uploadedBytes: number }> {
  const assets: RunAsset[] = [];
  let uploadedBytes = 0;
  for (const [name, data] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    const sha256 = sha256Hex(data);
    const { written } = await putObjectOnce(store, Objects.runAsset(sha256), data);
    if (written) uploadedBytes += data.length;
    assets.push({ name, sha256, bytes: data.length });
  }
  return { assets, uploadedBytes };
}

/** Every asset the spec names, by file name; errors name the file (NOT_FOUND, INTEGRITY). */
export async function fetchRunAssets(store: ObjectStore, assets: readonly RunAsset[] = []): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const a of assets) {
    if (out[a.name] !== undefined) throw new AceReasonError(ErrorCodes.INVALID, `run asset ${a.name}: named twice in the run spec`, { field: `assets.${a.name}` });
    try {
      out[a.name] = await getObjectChecked(store, { name: Objects.runAsset(a.sha256), sha256: a.sha256, bytes: a.bytes });
    } catch (err) {
      if (err instanceof AceReasonError) throw new AceReasonError(err.code, `run asset ${a.name}: ${err.message}`, { cause: err, field: a.name, retryable: false });
      throw err;
    }
  }
  return out;
}
