/** `acereason logs [--follow] [service]`: the background services' log files. */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { requireClusterState } from '../local/cluster-state.js';

const USAGE = 'acereason logs [--follow] [--lines N] [--state FILE] [service]';

async function copy(file: string, from: number, to: number, out: NodeJS.WritableStream, prefix: string): Promise<void> {
  if (to <= from) return;
  let carry = '';
  for await (const chunk of createReadStream(file, { start: from, end: to - 1, encoding: 'utf8' })) {
    const parts = (carry + String(chunk)).split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) out.write(`${prefix}${p}\n`);
  }
  if (carry) out.write(`${prefix}${carry}\n`);
}

export const logs: Command = {
  name: 'logs',
  summary: 'print (or --follow) the log files of the background cluster\'s services',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, { follow: { type: 'boolean', short: 'f' }, lines: { type: 'string' }, state: { type: 'string' } }, USAGE);
    const { state } = requireClusterState(values.state);
    const names = state.services.map((s) => s.name);
    const wanted = positionals.length ? positionals : names;
    for (const w of wanted) if (!names.includes(w)) throw new UsageError(`no service "${w}" in run ${state.runId}`, `Services: ${names.join(', ')}.`);
    const files = state.services.filter((s) => wanted.includes(s.name));
    const prefixed = files.length > 1;
    const maxLines = numberFlag('lines', values.lines, { integer: true, min: 0 });
    const offsets = new Map<string, number>();
    for (const f of files) {
      const size = existsSync(f.log) ? statSync(f.log).size : 0;
      let start = 0;
      if (maxLines !== undefined && size > 0) {
        // the last N lines: read back from the end in one go (logs are line-oriented JSON)
        const text = readFileSync(f.log, 'utf8');
        const lines = text.trimEnd().split('\n');
        start = Buffer.byteLength(lines.slice(0, Math.max(0, lines.length - maxLines)).map((l) => l + '\n').join(''));
      }
      await copy(f.log, start, size, ctx.stdout, prefixed ? `${f.name.padEnd(12)}| ` : '');
      offsets.set(f.log, size);
    }
    if (!values.follow) return 0;
    const ac = new AbortController();
    process.once('SIGINT', () => ac.abort());
    while (!ac.signal.aborted) {
      for (const f of files) {
        const size = existsSync(f.log) ? statSync(f.log).size : 0;
        const from = offsets.get(f.log) ?? 0;
        if (size > from) await copy(f.log, from, size, ctx.stdout, prefixed ? `${f.name.padEnd(12)}| ` : '');
        offsets.set(f.log, size);
      }
      await sleep(500, undefined, { signal: ac.signal }).catch(() => undefined);
    }
    return 0;
  },
};
