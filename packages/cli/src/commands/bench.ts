/** `acereason bench <suite> --json`: one JSON object on stdout with raw figures and `ratios`. */
import type { BenchOptions, BenchReport } from '@acereason/protocol';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';

export const suites: Record<string, (opts: BenchOptions & { natsCluster?: number; threads?: number; candidates?: string[]; sizes?: string[]; methods?: string[] }) => Promise<BenchReport>> = {
  transport: async (o) => (await import('@acereason/transport')).benchTransport(o),
  policy: async (o) => (await import('@acereason/policy')).benchPolicy(o),
  // The generation graphs with ONNX Runtime's contrib kernels against the standard-op graphs.
  'fused-ops': async (o) => (await import('@acereason/policy')).benchFusedOps(o),
  // The optimizer step alone (norm, clipping, AdamW) against PyTorch's; --layers 28 peaks at ~14.6 GB on the PyTorch side (bigmem).
  optimizer: async (o) => (await import('@acereason/policy')).benchOptimizer(o),
  // A full-size Qwen3-0.6B directory (~6 GB at its peak): run it under the shared memory lock.
  model: async (o) => (await import('@acereason/policy')).benchModel(o),
  'verify-math': async (o) => (await import('@acereason/verify-math')).benchVerifyMath(o),
  'verify-code': async (o) => (await import('@acereason/verify-code')).benchVerifyCode(o),
  loop: async (o) => (await import('../bench/loop.js')).benchLoop(o),
  serve: async (o) => (await import('@acereason/serve')).benchServe(o),
  // The weight-sync part of `loop` alone (the 1.2 GB size needs ~10 GB of memory at its peak).
  'weight-sync': async (o) => {
    const { benchHost } = await import('@acereason/protocol');
    const ws = await (await import('@acereason/learner')).benchWeightSync({ quick: o.quick === true, ...(o.sizes ? { sizes: o.sizes } : {}), ...(o.methods ? { methods: o.methods as ('bulk' | 'single' | 'grpc' | 'objstore')[] } : {}) });
    return { suite: 'weight-sync', host: benchHost(), weight_sync: ws.figures, ratios: ws.ratios };
  },
  chaos: async (o) => (await import('../bench/chaos.js')).benchChaos(o),
  // The whole loop on a Hugging Face directory with a kill -9 of the learner and a resume (full size: ~14 GB peak, bigmem).
  'model-run': async (o) => (await import('../bench/model-run.js')).benchModelRun(o),
  // The learner's checkpoint write against the synchronous one (4 layers: 2.6 GB per write, ~3 GB resident: bigmem).
  checkpoint: async (o) => (await import('@acereason/learner')).benchCheckpoint(o),
};

const MODEL_RUN_USAGE = 'acereason bench model-run [--quick] [--layers N | --model DIR] [--json]';
const CHECKPOINT_USAGE = 'acereason bench checkpoint [--quick] [--layers N] [--json]';
const OPTIMIZER_USAGE = 'acereason bench optimizer [--quick] [--layers N (1-28, default 2)] [--threads N] [--rounds N (default 5)] [--json]';

function table(report: BenchReport): string {
  const lines = [`suite ${report.suite} on ${report.host.cpus} x ${report.host.cpuModel}, node ${report.host.node}`];
  for (const [k, v] of Object.entries(report.ratios)) lines.push(`  ratio ${k.padEnd(40)} ${v.toFixed(3)}`);
  return lines.join('\n');
}

const bench: Command = {
  name: 'bench',
  summary: 'run a benchmark suite and print its JSON: bench <suite> --json',
  usage: `acereason bench <${Object.keys(suites).join('|')}> [--json] [--quick] [--threads N (policy)] [--suite FILE.jsonl (verify-math)] [--nats-cluster 3 (chaos)] [--shape qwen3-0.6b | --model DIR] [--layers N] [--tokens T[,T...]] [--steps N] [--generation-dtype float16|bfloat16] [--candidates NAME[,NAME...] (fused-ops)] [--sizes 10mb,100mb,1.2gb --methods bulk,objstore,single,grpc (weight-sync)] [--head-chunks N --backward-layers N (a truncated step: peak memory only)] [--rounds N (the sides alternating in fresh processes)] (long)\n       ${MODEL_RUN_USAGE}\n       ${CHECKPOINT_USAGE}\n       ${OPTIMIZER_USAGE}\n       acereason bench compare A.json B.json [--tolerance 0.3] [--json]`,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, { json: { type: 'boolean' }, quick: { type: 'boolean' }, suite: { type: 'string' }, 'nats-cluster': { type: 'string' }, shape: { type: 'string' }, model: { type: 'string' }, layers: { type: 'string' }, tokens: { type: 'string' }, steps: { type: 'string' }, 'generation-dtype': { type: 'string' }, 'head-chunks': { type: 'string' }, 'backward-layers': { type: 'string' }, threads: { type: 'string' }, tolerance: { type: 'string' }, candidates: { type: 'string' }, rounds: { type: 'string' }, sizes: { type: 'string' }, methods: { type: 'string' } }, this.usage);
    const [name] = positionals;
    if (values.tolerance !== undefined && name !== 'compare') throw new UsageError('--tolerance is for bench compare', 'acereason bench compare A.json B.json [--tolerance 0.3]');
    if (name === 'compare') {
      const files = positionals.slice(1);
      if (files.length !== 2) throw new UsageError(`bench compare takes two files, got ${files.length}`, 'acereason bench compare A.json B.json [--tolerance 0.3]');
      const tolerance = numberFlag('--tolerance', values.tolerance, { min: 0 }, this.usage) ?? 0.3;
      const { compareRuns, formatComparison, readBenchJson } = await import('../bench/compare.js');
      const c = compareRuns(readBenchJson(files[0] as string), readBenchJson(files[1] as string), tolerance);
      ctx.stdout.write(values.json ? JSON.stringify(c) + '\n' : formatComparison(c));
      return c.disagree.length === 0 ? 0 : 1;
    }
    const threads = numberFlag('--threads', values.threads, { integer: true, min: 1, max: 256 }, this.usage);
    if (threads !== undefined && name !== 'policy' && name !== 'optimizer') throw new UsageError('--threads is for bench policy and bench optimizer', 'acereason bench policy --threads N --json');
    if (name === 'optimizer') {
      const stray = (['shape', 'model', 'tokens', 'steps', 'generation-dtype', 'head-chunks', 'backward-layers', 'suite', 'nats-cluster'] as const).find((f) => values[f] !== undefined);
      if (stray) throw new UsageError(`--${stray} is not a flag of bench optimizer`, OPTIMIZER_USAGE);
      const layers = numberFlag('--layers', values.layers, { integer: true, min: 1, max: 28 }, OPTIMIZER_USAGE);
      const rounds = numberFlag('--rounds', values.rounds, { integer: true, min: 1, max: 100 }, OPTIMIZER_USAGE);
      const report = await (await import('@acereason/policy')).benchOptimizer({ quick: values.quick === true, ...(layers !== undefined ? { layers } : {}), ...(rounds !== undefined ? { rounds } : {}), ...(threads !== undefined ? { threads } : {}) });
      ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    if (name === 'model-run') {
      const stray = (['shape', 'tokens', 'steps', 'generation-dtype', 'head-chunks', 'backward-layers', 'suite', 'nats-cluster', 'rounds'] as const).find((f) => values[f] !== undefined);
      if (stray) throw new UsageError(`--${stray} is not a flag of bench model-run`, MODEL_RUN_USAGE);
      if (values.model !== undefined && values.layers !== undefined) throw new UsageError('--layers is for the random-weight model; a --model DIR runs as it is', MODEL_RUN_USAGE);
      const layers = numberFlag('--layers', values.layers, { integer: true, min: 1, max: 28 }, MODEL_RUN_USAGE);
      const report = await (await import('../bench/model-run.js')).benchModelRun({ quick: values.quick === true, ...(layers !== undefined ? { layers } : {}), ...(values.model !== undefined ? { model: values.model } : {}) });
      ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
      return report.resume && (report.resume as { exact: boolean }).exact ? 0 : 1;
    }
    if (name === 'checkpoint') {
      const stray = (['shape', 'model', 'tokens', 'steps', 'generation-dtype', 'head-chunks', 'backward-layers', 'suite', 'nats-cluster', 'rounds'] as const).find((f) => values[f] !== undefined);
      if (stray) throw new UsageError(`--${stray} is not a flag of bench checkpoint`, CHECKPOINT_USAGE);
      const layers = numberFlag('--layers', values.layers, { integer: true, min: 1, max: 28 }, CHECKPOINT_USAGE);
      const report = await (await import('@acereason/learner')).benchCheckpoint({ quick: values.quick === true, ...(layers !== undefined ? { layers } : {}) });
      ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    const longFlags = ['shape', 'model', 'layers', 'tokens', 'steps', 'generation-dtype', 'head-chunks', 'backward-layers', 'rounds'] as const;
    if (longFlags.some((f) => values[f] !== undefined) || name === 'long') {
      if (name !== 'long') throw new UsageError(`--${longFlags.find((f) => values[f] !== undefined) ?? 'shape'} is for bench long`, 'acereason bench long [--shape qwen3-0.6b | --model DIR] [--layers N] [--tokens T[,T...]] --json');
      const int = (flag: string, v: string): number => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a positive integer, got "${v}"`, this.usage);
        return n;
      };
      const report = await (await import('@acereason/policy')).benchLong({
        quick: values.quick === true,
        ...(values.shape !== undefined ? { shape: values.shape as 'qwen3-0.6b' } : {}),
        ...(values.model !== undefined ? { model: values.model } : {}),
        ...(values.layers !== undefined ? { layers: int('layers', values.layers) } : {}),
        ...(values.tokens !== undefined ? { tokens: values.tokens.split(',').map((t) => int('tokens', t)) } : {}),
        ...(values.steps !== undefined ? { steps: int('steps', values.steps) } : {}),
        ...(values.rounds !== undefined ? { rounds: int('rounds', values.rounds) } : {}),
        ...(values['generation-dtype'] !== undefined ? { generationDtype: values['generation-dtype'] as 'float16' } : {}),
        ...(values['head-chunks'] !== undefined || values['backward-layers'] !== undefined
          ? { probe: { ...(values['head-chunks'] !== undefined ? { headChunks: int('head-chunks', values['head-chunks']) } : {}), ...(values['backward-layers'] !== undefined ? { backwardLayers: int('backward-layers', values['backward-layers']) } : {}) } }
          : {}),
      });
      ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    if (values.suite !== undefined) {
      if (name !== 'verify-math') throw new UsageError('--suite is for verify-math', 'acereason bench verify-math --suite FILE.jsonl');
      const report = await (await import('@acereason/verify-math')).benchVerifyMathSuite(values.suite);
      ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
      return 0;
    }
    const suite = name === undefined ? undefined : suites[name];
    if (!suite) throw new UsageError(name === undefined ? 'which suite?' : `unknown suite "${name}"`, `suites: ${Object.keys(suites).join(', ')}`);
    const natsCluster = numberFlag('--nats-cluster', values['nats-cluster'], { integer: true, min: 1, max: 7 }, this.usage);
    if (natsCluster !== undefined && name !== 'chaos') throw new UsageError('--nats-cluster is for the chaos suite', 'acereason bench chaos --nats-cluster 3 --json');
    if (natsCluster !== undefined && natsCluster % 2 === 0) throw new UsageError(`--nats-cluster ${natsCluster}: a JetStream cluster needs an odd number of nodes`, 'acereason bench chaos --nats-cluster 3 --json');
    if (values.candidates !== undefined && name !== 'fused-ops') throw new UsageError('--candidates is for the fused-ops suite', 'acereason bench fused-ops --candidates rotary,gqa --json');
    const candidates = values.candidates?.split(',');
    if ((values.sizes !== undefined || values.methods !== undefined) && name !== 'weight-sync') throw new UsageError('--sizes and --methods are for the weight-sync suite', 'acereason bench weight-sync --sizes 1.2gb --methods single --json');
    const listed = (flag: string, v: string | undefined, allowed: readonly string[]): string[] | undefined => {
      const xs = v?.split(',').filter((x) => x !== '');
      const bad = xs?.find((x) => !allowed.includes(x));
      if (bad !== undefined || xs?.length === 0) throw new UsageError(`--${flag}: ${bad === undefined ? 'empty' : `"${bad}" is not one of ${allowed.join(', ')}`}`, 'acereason bench weight-sync --sizes 1.2gb --methods single --json');
      return xs;
    };
    const sizes = listed('sizes', values.sizes, ['10mb', '100mb', '1.2gb']);
    const methods = listed('methods', values.methods, ['bulk', 'objstore', 'single', 'grpc']);
    const report = await suite({ quick: values.quick === true, ...(natsCluster !== undefined ? { natsCluster } : {}), ...(threads !== undefined ? { threads } : {}), ...(candidates !== undefined ? { candidates } : {}), ...(sizes ? { sizes } : {}), ...(methods ? { methods } : {}) });
    ctx.stdout.write(values.json ? JSON.stringify(report) + '\n' : table(report) + '\n' + JSON.stringify(report, null, 2) + '\n');
    return 0;
  },
};
export default bench;
