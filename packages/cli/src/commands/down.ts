/** `acereason down`: stops the background cluster of `acereason up` and removes its state. */
import { numberFlag, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { removeClusterState, requireClusterState } from '../local/cluster-state.js';
import { stopServices } from '../local/detached-cluster.js';

const USAGE = 'acereason down [--grace SECONDS] [--state FILE] [--json]';

export const down: Command = {
  name: 'down',
  summary: 'stop the background cluster (SIGTERM, then SIGKILL after a grace period)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { grace: { type: 'string' }, state: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
    const { file, state } = requireClusterState(values.state);
    const graceS = numberFlag('grace', values.grace, { min: 0 }, USAGE) ?? 20;
    const results = await stopServices(state.services, graceS * 1000);
    removeClusterState(file);
    if (values.json) ctx.stdout.write(JSON.stringify({ runId: state.runId, stopped: results }) + '\n');
    else {
      for (const r of results) ctx.stdout.write(`${r.name.padEnd(12)} ${r.result}\n`);
      ctx.stdout.write(`run ${state.runId} is down (logs stay in ${state.logDir})\n`);
    }
    return 0;
  },
};
