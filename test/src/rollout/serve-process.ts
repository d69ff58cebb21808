/**
 * `acereason serve` as a real child process over a demo-model directory, for the tests of actors
 * whose rollouts come from an inference server. A restart on the same port is a new process that
 * holds only the directory it was started with (a server "left on an old version").
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { charTokenizerFiles, DEMO_ALPHABET, DEMO_MODEL, createOnnxEngine, type NamedTensor } from '@acereason/policy';
import { VersionDirs } from '@acereason/actor';
import { spawnChild, type ChildHandle } from '@acereason/testkit';

const CLI = join(fileURLToPath(new URL('../../../', import.meta.url)), 'packages/cli/dist/main.js');

export interface ServeProcess {
  child: ChildHandle;
  url: string;
  port: number;
}

export async function startServeProcess(dir: string, name: string, port = 0): Promise<ServeProcess> {
  const child = spawnChild({ name: `serve-${name}`, command: process.execPath, args: [CLI, 'serve', '--model', dir, '--name', name, '--port', String(port), '--threads', '1'], env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
  const m = await child.waitForOutput(/serving \S+ \(version \d+\) at (http:\/\/[\d.]+:(\d+))\/v1/, 60_000);
  return { child, url: m[1] as string, port: Number(m[2]) };
}

export interface DemoVersion {
  version: number;
  weightsSha256: string;
  tensors: NamedTensor[];
}

/** Demo-model weights from a seed (or given safetensors bytes), as a version. */
export async function demoVersion(version: number, from: { seed: number } | { weights: Uint8Array }): Promise<DemoVersion> {
  const e = await createOnnxEngine({ model: DEMO_MODEL, threads: 1, ...('seed' in from ? { seed: from.seed } : { weights: from.weights }) });
  try {
    return { version, weightsSha256: e.weightsSha256(), tensors: e.exportWeights() };
  } finally {
    await e.dispose();
  }
}

/** The demo model's version directories (config, weights, the character tokenizer as tokenizer.json). */
export const demoDirs = (root: string): VersionDirs => new VersionDirs(root, DEMO_MODEL, charTokenizerFiles(DEMO_ALPHABET), 100);
