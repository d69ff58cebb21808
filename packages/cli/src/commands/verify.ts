/** `acereason verify math|code [--in F] [--out F]`: JSON lines in, one result line per input out. */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

const verify: Command = {
  name: 'verify',
  summary: 'score responses: verify math | verify code (JSON lines in, JSON lines out)',
  usage: 'acereason verify <math|code> [--in FILE] [--out FILE] [--workers N] [--timeout-ms MS] [--fallbacks] [--decimal-comma] [--unsafe-no-sandbox]',
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, {
      in: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' }, 'timeout-ms': { type: 'string' },
      fallbacks: { type: 'boolean' }, 'decimal-comma': { type: 'boolean' }, 'unsafe-no-sandbox': { type: 'boolean' },
    }, this.usage);
    const [domain] = positionals;
    if (domain !== 'math' && domain !== 'code') throw new UsageError(`expected "math" or "code", got ${domain === undefined ? 'nothing' : `"${domain}"`}`, `usage: ${this.usage}`);
    const workers = numberFlag('workers', values.workers, { integer: true, min: 1 });
    const timeoutMs = numberFlag('timeout-ms', values['timeout-ms'], { integer: true, min: 1 });
    const input = values.in ? createReadStream(values.in) : ctx.stdin;
    if (values.in) await once(input as ReturnType<typeof createReadStream>, 'open').catch((err: unknown) => { throw new UsageError(`--in: cannot read ${values.in}: ${(err as Error).message}`); });
    const output = values.out ? createWriteStream(values.out) : ctx.stdout;
    let summary: { lines: number; ok: number; bad: number };
    if (domain === 'math') {
      const { runVerifyMathCli } = await import('@acereason/verify-math');
      summary = await runVerifyMathCli({ input, output, ...(workers ? { workers } : {}), ...(timeoutMs ? { timeoutMs } : {}), fallbacks: values.fallbacks === true, decimalComma: values['decimal-comma'] === true });
    } else {
      const { runVerifyCodeCli } = await import('@acereason/verify-code');
      summary = await runVerifyCodeCli({ input, output, ...(workers ? { concurrency: workers } : {}), unsafeNoSandbox: values['unsafe-no-sandbox'] === true });
    }
    if (values.out) await new Promise<void>((resolve) => (output as ReturnType<typeof createWriteStream>).end(resolve));
    ctx.stderr.write(`verify ${domain}: ${summary.lines} lines, ${summary.ok} verified, ${summary.bad} bad\n`);
    return 0;
  },
};
export default verify;
