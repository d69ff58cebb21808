/**
 * `acereason doctor`: is this machine ready? Each check says what it found and, when something is
 * missing, the command that fixes it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { natsServerBinary } from '@acereason/transport';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';

const run = promisify(execFile);

export interface Check {
  name: string;
  ok: boolean;
  /** A missing optional tool warns but does not fail the doctor. */
  required: boolean;
  detail: string;
  fix?: string;
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

export async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  const node = process.versions.node;
  checks.push({ name: 'node', ok: semverAtLeast(node, [20, 10]), required: true, detail: `v${node}`, fix: 'install Node.js 20.10 or newer' });

  const nats = await version(natsServerBinary(), ['--version']);
  checks.push({
    name: 'nats-server',
    ok: nats !== undefined && semverAtLeast(nats, [2, 9]),
    required: true,
    detail: nats ? `${nats.replace(/^nats-server:\s*/, '')} (JetStream needs 2.9+)` : 'not found on PATH',
    fix: 'apt-get install -y nats-server   (or set ACEREASON_NATS_SERVER to its path)',
  });

  try {
    const ort = await import('onnxruntime-node');
    const backends = ort.listSupportedBackends().map((b) => b.name).join(', ');
    checks.push({ name: 'onnxruntime-node', ok: true, required: true, detail: `loads; backends: ${backends}` });
  } catch (err) {
    checks.push({ name: 'onnxruntime-node', ok: false, required: true, detail: `does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, fix: 'ONNXRUNTIME_NODE_INSTALL=skip npm ci   (CPU); GPU hosts: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci' });
  }

  try {
    const { detectSandbox } = await import('@acereason/verify-code');
    const sb = await detectSandbox();
    checks.push({ name: 'code sandbox', ok: sb.ok, required: false, detail: sb.ok ? `${sb.kind} works` : sb.reason, fix: 'apt-get install -y bubblewrap   (the code verifier refuses to run untrusted code without a sandbox)' });
  } catch (err) {
    checks.push({ name: 'code sandbox', ok: false, required: false, detail: `cannot check: ${err instanceof Error ? err.message : String(err)}`, fix: 'apt-get install -y bubblewrap' });
  }

  const py = await version('/usr/bin/python3', ['--version']);
  checks.push({ name: 'python3 (code verifier)', ok: py !== undefined, required: false, detail: py ?? 'not found at /usr/bin/python3', fix: 'apt-get install -y python3' });
  const gpp = await version('g++', ['--version']);
  checks.push({ name: 'g++ (C++ submissions)', ok: gpp !== undefined, required: false, detail: gpp ?? 'not found', fix: 'apt-get install -y g++' });
  return checks;
}

const doctor: Command = {
  name: 'doctor',
  summary: 'check this machine: Node, nats-server, onnxruntime, sandbox tools',
  usage: 'acereason doctor [--json]',
  async run(args, ctx) {
    const { values } = parseFlags(args, { json: { type: 'boolean' } }, this.usage);
    const checks = await runChecks();
    const healthy = checks.every((c) => c.ok || !c.required);
    if (values.json) {
      ctx.stdout.write(JSON.stringify({ ok: healthy, checks }) + '\n');
    } else {
      for (const c of checks) {
        const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
        ctx.stdout.write(`${mark}  ${c.name.padEnd(24)} ${c.detail}\n`);
        if (!c.ok && c.fix) ctx.stdout.write(`      fix: ${c.fix}\n`);
      }
      ctx.stdout.write(healthy ? '\nall required checks passed\n' : '\nsome required checks failed (see fix lines above)\n');
    }
    return healthy ? 0 : 1;
  },
};
export default doctor;
