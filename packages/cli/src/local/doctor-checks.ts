/**
 * The checks behind `acereason doctor` (and the demo's start): each says what it found and, when
 * something is missing, the line that fixes it on this platform.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { natsServerBinary } from '@acereason/transport';
import { detectPlatform, installPlan, type Platform, type SystemTool } from './system-packages.js';

const run = promisify(execFile);

export type CheckId = 'node' | 'nats-server' | 'onnxruntime' | 'msgpack-native' | 'sandbox' | 'python3' | 'g++';

export interface Check {
  id: CheckId;
  name: string;
  ok: boolean;
  /** A missing optional tool warns but does not fail the doctor. */
  required: boolean;
  detail: string;
  fix?: string;
  /** The system package that fixes this check when it is missing (what `doctor --fix` installs). */
  tool?: SystemTool;
}

async function version(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

function semverAtLeast(v: string, min: [number, number]): boolean {
  const m = v.match(/(\d+)\.(\d+)/);
  if (!m) return false;
  const [maj, minor] = [Number(m[1]), Number(m[2])];
  return maj > min[0] || (maj === min[0] && minor >= min[1]);
}

const message = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err));

export async function runChecks(platform: Platform = detectPlatform()): Promise<Check[]> {
  const fix = (tool: SystemTool): string => installPlan([tool], platform).line;
  const checks: Check[] = [];
  const node = process.versions.node;
  checks.push({ id: 'node', name: 'node', ok: semverAtLeast(node, [20, 10]), required: true, detail: `v${node}`, fix: 'install Node.js 20.10 or newer' });

  const nats = await version(natsServerBinary(), ['--version']);
  checks.push({
    id: 'nats-server',
    name: 'nats-server',
    ok: nats !== undefined && semverAtLeast(nats, [2, 9]),
    required: true,
    detail: nats ? `${nats.replace(/^nats-server:\s*/, '')} (JetStream needs 2.9+)` : 'not found on PATH',
    fix: `${fix('nats-server')}   (or set ACEREASON_NATS_SERVER to its path)`,
    tool: 'nats-server',
  });

  try {
    const ort = await import('onnxruntime-node');
    const backends = ort.listSupportedBackends().map((b) => b.name).join(', ');
    checks.push({ id: 'onnxruntime', name: 'onnxruntime-node', ok: true, required: true, detail: `loads; backends: ${backends}` });
  } catch (err) {
    checks.push({ id: 'onnxruntime', name: 'onnxruntime-node', ok: false, required: true, detail: `does not load: ${message(err)}`, fix: 'ONNXRUNTIME_NODE_INSTALL=skip npm ci   (CPU); GPU hosts: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci' });
  }

  const { msgpackNativeCodec } = await import('@acereason/protocol');
  const native = msgpackNativeCodec();
  checks.push({
    id: 'msgpack-native',
    name: 'msgpack native codec',
    ok: native,
    required: false,
    detail: native ? 'msgpackr-extract loads' : 'not loaded: messages decode with the slower JavaScript path',
    fix: 'npm rebuild msgpackr-extract   (its install script is allowed in package.json allowScripts; it needs a C++ toolchain where no prebuilt binary exists)',
  });

  const bwrap = await version('bwrap', ['--version']);
  try {
    const { detectSandbox } = await import('@acereason/verify-code');
    const sb = await detectSandbox();
    checks.push({ id: 'sandbox', name: 'code sandbox', ok: sb.ok, required: false, detail: sb.ok ? `${sb.kind} works` : sb.reason, fix: `${fix('bubblewrap')}   (the code verifier refuses to run untrusted code without a sandbox)`, ...(bwrap === undefined ? { tool: 'bubblewrap' as const } : {}) });
  } catch (err) {
    checks.push({ id: 'sandbox', name: 'code sandbox', ok: false, required: false, detail: `cannot check: ${message(err)}`, fix: fix('bubblewrap'), ...(bwrap === undefined ? { tool: 'bubblewrap' as const } : {}) });
  }

  const py = await version('/usr/bin/python3', ['--version']);
  checks.push({ id: 'python3', name: 'python3 (code verifier)', ok: py !== undefined, required: false, detail: py ?? 'not found at /usr/bin/python3', fix: fix('python3'), tool: 'python3' });
  const gpp = await version('g++', ['--version']);
  checks.push({ id: 'g++', name: 'g++ (C++ submissions)', ok: gpp !== undefined, required: false, detail: gpp ?? 'not found', fix: fix('g++'), tool: 'g++' });
  return checks;
}

/** Prints checks as the doctor does: one line each, and the fix line under anything missing. */
export function formatChecks(checks: readonly Check[], isRequired: (c: Check) => boolean = (c) => c.required): string {
  const lines: string[] = [];
  for (const c of checks) {
    const mark = c.ok ? 'ok  ' : isRequired(c) ? 'FAIL' : 'warn';
    lines.push(`${mark}  ${c.name.padEnd(24)} ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`      fix: ${c.fix}`);
  }
  return lines.join('\n') + '\n';
}
