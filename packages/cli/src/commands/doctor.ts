/**
 * `acereason doctor`: is this machine ready? Each check says what it found and, when something is
 * missing, the command that fixes it. `--fix` installs the missing system tools itself where it
 * can (apt-get on Debian/Ubuntu, through sudo when not root) and checks again.
 */
import { spawnSync } from 'node:child_process';
import { parseFlags } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { formatChecks, runChecks, type Check } from '../local/doctor-checks.js';
import { detectPlatform, installPlan, type SystemTool } from '../local/system-packages.js';

export type { Check } from '../local/doctor-checks.js';
export { runChecks } from '../local/doctor-checks.js';

const USAGE = 'acereason doctor [--json] [--fix]';

/** Installs the system tools behind failing checks (the checks run again afterwards). */
function fix(checks: readonly Check[], ctx: CommandContext): void {
  const tools = [...new Set(checks.filter((c) => !c.ok && c.tool !== undefined).map((c) => c.tool as SystemTool))];
  if (tools.length === 0) return;
  const plan = installPlan(tools, detectPlatform());
  for (const m of plan.manual) ctx.stderr.write(`acereason doctor: cannot install ${m}\n`);
  if (plan.commands === undefined) {
    if (plan.line !== plan.manual.join('; ')) ctx.stderr.write(`acereason doctor: install the missing tools with:\n  ${plan.line}\n`);
    return;
  }
  ctx.stderr.write(`acereason doctor: installing ${tools.join(', ')}: ${plan.line}\n`);
  for (const argv of plan.commands) {
    const [cmd, ...rest] = argv;
    const r = spawnSync(cmd as string, rest, { stdio: ['inherit', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      ctx.stderr.write(`acereason doctor: \`${argv.join(' ')}\` failed (exit ${String(r.status ?? r.signal ?? r.error?.message)})\n`);
      return;
    }
  }
}

const doctor: Command = {
  name: 'doctor',
  summary: 'check this machine: Node, nats-server, onnxruntime, sandbox tools (--fix installs what is missing)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { json: { type: 'boolean' }, fix: { type: 'boolean' } }, USAGE);
    let checks = await runChecks();
    if (values.fix === true && checks.some((c) => !c.ok && c.tool !== undefined)) {
      const missing = checks.filter((c) => !c.ok && c.tool !== undefined);
      fix(checks, ctx);
      checks = await runChecks();
      // What the install did, one line per tool (CI's log shows that --fix really installed it).
      for (const m of missing) {
        const now = checks.find((c) => c.id === m.id);
        ctx.stderr.write(`acereason doctor --fix: ${m.tool as string} ${now?.ok === true ? `installed: ${now.detail}` : 'still missing'}\n`);
      }
    }
    const healthy = checks.every((c) => c.ok || !c.required);
    if (values.json) ctx.stdout.write(JSON.stringify({ ok: healthy, checks }) + '\n');
    else ctx.stdout.write(formatChecks(checks) + (healthy ? '\nall required checks passed\n' : '\nsome required checks failed (see fix lines above)\n'));
    return healthy ? 0 : 1;
  },
};
export default doctor;
