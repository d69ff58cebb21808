/** `acereason passrates`: query the pass-rate table (per prompt, per stage and version). */
import { connectNats, drainQuietly, ensureTopology } from '@acereason/transport';
import { PassRateTable, recentPassRate, type PromptPassRates } from '@acereason/learner';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { OPERATOR_SECURITY_USAGE, TARGET_FLAGS, resolveTarget } from '../local/target.js';

const passrates: Command = {
  name: 'passrates',
  summary: 'query the pass-rate table: --dataset NAME [--prompt ID]',
  usage: `acereason passrates --dataset NAME [--prompt ID] [--nats URL | --state FILE] [${OPERATOR_SECURITY_USAGE}] [--window N] [--limit N] [--json]`,
  async run(args, ctx) {
    const { values } = parseFlags(args, { ...TARGET_FLAGS, dataset: { type: 'string' }, prompt: { type: 'string' }, window: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, this.usage);
    if (!values.dataset) throw new UsageError('--dataset is required', `usage: ${this.usage}`);
    const window = numberFlag('window', values.window, { integer: true, min: 1 }, this.usage) ?? 16;
    const limit = numberFlag('limit', values.limit, { integer: true, min: 1 }, this.usage) ?? 50;
    // Without --nats or a cluster state: a nats-server on the default port.
    const target = resolveTarget(values, []);
    const nc = await connectNats({ servers: target.natsUrl || 'nats://127.0.0.1:4222', name: 'acereason-passrates', ...target.nats });
    try {
      const topo = await ensureTopology(nc, { verifyOnly: true, waitForMs: 0 });
      const table = new PassRateTable(topo.passRates);
      let rows: PromptPassRates[] = [];
      if (values.prompt) {
        const r = await table.get(values.dataset, values.prompt);
        if (r) rows = [r];
      } else {
        const keys = await topo.passRates.keys(`${values.dataset}.>`);
        for await (const k of keys) {
          const e = await topo.passRates.get(k);
          if (e && e.operation === 'PUT' && e.length > 0) rows.push(JSON.parse(new TextDecoder().decode(e.value)) as PromptPassRates);
        }
      }
      const summary = rows.map((r) => {
        const recent = recentPassRate(r, window);
        return { promptId: r.promptId, attempts: recent.attempts, passes: recent.passes, rate: recent.attempts ? recent.passes / recent.attempts : 0, records: r.records };
      }).sort((a, b) => a.rate - b.rate || a.promptId.localeCompare(b.promptId));
      if (values.json) {
        ctx.stdout.write(JSON.stringify({ dataset: values.dataset, window, prompts: summary }) + '\n');
        return 0;
      }
      if (summary.length === 0) {
        ctx.stdout.write(`no pass rates recorded for dataset "${values.dataset}"${values.prompt ? ` prompt "${values.prompt}"` : ''}\n`);
        return 0;
      }
      ctx.stdout.write(`${'prompt'.padEnd(24)} ${'recent'.padStart(9)}  rate   stages\n`);
      for (const s of summary.slice(0, limit)) {
        const stages = [...new Set(s.records.map((r) => r.stage))].join(',');
        ctx.stdout.write(`${s.promptId.slice(0, 24).padEnd(24)} ${`${s.passes}/${s.attempts}`.padStart(9)}  ${s.rate.toFixed(2)}   ${stages}\n`);
      }
      if (summary.length > limit) ctx.stdout.write(`... ${summary.length - limit} more (--limit, --json)\n`);
      return 0;
    } finally {
      await drainQuietly(nc);
    }
  },
};
export default passrates;
