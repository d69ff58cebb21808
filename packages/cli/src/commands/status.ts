/** `acereason status [--watch] [--json]`: the run at a glance. */
import { setTimeout as sleep } from 'node:timers/promises';
import { numberFlag, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { formatStatus, gatherStatus } from '../local/run-status.js';
import { OPERATOR_SECURITY_USAGE, TARGET_FLAGS, resolveTarget } from '../local/target.js';

const USAGE = `acereason status [--json] [--watch [--interval S]] [--nats URL --run ID --learner HOST:PORT | --state FILE] [${OPERATOR_SECURITY_USAGE}]`;

export const status: Command = {
  name: 'status',
  summary: 'stage, step, version, workers with throughput, queue depths, last step\'s metrics (--watch, --json)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { ...TARGET_FLAGS, json: { type: 'boolean' }, watch: { type: 'boolean' }, interval: { type: 'string' } }, USAGE);
    const target = resolveTarget(values, ['natsUrl', 'runId']);
    const intervalS = numberFlag('interval', values.interval, { min: 0.1 }, USAGE) ?? 2;
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    if (values.watch) process.once('SIGINT', onSigint);
    try {
      for (;;) {
        const s = await gatherStatus(target);
        if (values.json) ctx.stdout.write(JSON.stringify(s) + '\n');
        else ctx.stdout.write(`${values.watch ? '\x1b[2J\x1b[H' : ''}${formatStatus(s)}\n`);
        if (!values.watch) return s.learner || !s.natsError ? 0 : 1;
        await sleep(intervalS * 1000, undefined, { signal: ac.signal }).catch(() => undefined);
        if (ac.signal.aborted) return 0;
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
