import { execFile } from 'node:child_process';
import { runSubmission } from '../runner.js';
import type { SandboxKind, SandboxOptions } from './kinds.js';
import { INSTALL_HINT } from './kinds.js';

export interface SandboxStatus {
  kind: SandboxKind | 'none';
  ok: boolean;
  reason: string;
}

function which(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 5000 }, (err) => resolve(err === null));
  });
}

/** Runs a real probe program through the given sandbox: the only honest availability check. */
export async function probeSandbox(kind: SandboxKind, options: SandboxOptions = {}): Promise<SandboxStatus> {
  const tool = kind === 'bwrap' ? 'bwrap' : kind === 'unshare' ? 'unshare' : undefined;
  if (tool !== undefined && !(await which(tool))) return { kind, ok: false, reason: `${tool} is not installed (${INSTALL_HINT})` };
  const v = await runSubmission(
    { code: 'import os\nprint(int(input()) + 1, os.getuid() != 0)', tests: { inputs: ['41'], outputs: ['42 True'] }, timeLimitS: 5 },
    { kind, slot: 0, sandbox: options, limits: {} },
  );
  if (v.status === 'accepted') return { kind, ok: true, reason: `${kind} sandbox works` };
  return { kind, ok: false, reason: `${kind} probe failed (${v.status}): ${v.reason}` };
}

/** Finds the strongest working isolation: bubblewrap, else namespaces via unshare. */
export async function detectSandbox(options: SandboxOptions = {}): Promise<SandboxStatus> {
  const b = await probeSandbox('bwrap', options);
  if (b.ok) return b;
  const u = await probeSandbox('unshare', options);
  if (u.ok) return { ...u, reason: `${u.reason} (weaker: host files visible read-only; ${b.reason}; ${INSTALL_HINT})` };
  return { kind: 'none', ok: false, reason: `no sandbox available: ${b.reason}; ${u.reason}. Fix: ${INSTALL_HINT}` };
}
