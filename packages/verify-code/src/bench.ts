import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MIN_ROUNDS, alternate, benchHost, summarize, type BenchOptions, type BenchReport } from '@acereason/protocol';
import { compareOutput } from './compare.js';
import { CodeVerifier } from './pool.js';
import { DEFAULT_PYTHON } from './sandbox/kinds.js';

interface Workload {
  name: string;
  code: string;
  input: (s: number, t: number) => string;
  output: (s: number, t: number) => string;
}

const CPU_N = 150_000;
function cpuAnswer(k: number): string {
  let acc = 0;
  for (let i = 0; i < CPU_N; i++) acc = (acc + ((i * i) % (k + 7))) % 1_000_003;
  return String(acc);
}

const WORKLOADS: Workload[] = [
  {
    name: 'trivial',
    code: 'a, b = map(int, input().split())\nprint(a + b)\n',
    input: (s, t) => `${s} ${t}\n`,
    output: (s, t) => `${s + t}\n`,
  },
  {
    name: 'cpu',
    code: `k = int(input())\nacc = 0\nfor i in range(${CPU_N}):\n    acc = (acc + i * i % (k + 7)) % 1000003\nprint(acc)\n`,
    input: (s, t) => `${(s * 10 + t) % 50}\n`,
    output: (s, t) => cpuAnswer((s * 10 + t) % 50),
  },
];

async function pmap<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function runBare(file: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(DEFAULT_PYTHON, [file], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (s: string) => (out += s));
    p.on('error', reject);
    p.on('close', () => resolve(out));
    p.stdin.end(input);
  });
}

/**
 * `acereason bench verify-code`: the same submissions through the sandboxed verifier and through
 * bare `python3` (no isolation, one interpreter per test), both at one job per core. Per workload
 * the two sides alternate (sandbox, bare, sandbox, ...) for MIN_ROUNDS rounds of `subs / rounds`
 * submissions each; throughput is min / median / max per side, the ratio the median per-round
 * ratio with its range.
 */
export async function benchVerifyCode(opts: BenchOptions = {}): Promise<BenchReport> {
  const rounds = MIN_ROUNDS;
  const perRound = opts.quick === true ? 2 : 20;
  const subs = perRound * rounds;
  const testsPer = opts.quick === true ? 4 : 10;
  const concurrency = availableParallelism();
  const verifier = new CodeVerifier({ concurrency, sandbox: 'auto' });
  const kind = await verifier.ready();
  const dir = mkdtempSync(join(tmpdir(), 'acereason-bench-'));
  const report: BenchReport = {
    suite: 'verify-code',
    host: benchHost(),
    sandbox: kind,
    concurrency,
    rounds,
    submissions: subs,
    tests_per_submission: testsPer,
    ratios: {},
  };
  try {
    for (const w of WORKLOADS) {
      const file = join(dir, `${w.name}.py`);
      writeFileSync(file, w.code);
      // Warm both paths once (page cache, first compile) outside the timed runs.
      await runBare(file, w.input(0, 0));
      await verifier.verify({ code: w.code, tests: { inputs: [w.input(0, 0)], outputs: [w.output(0, 0)] } });

      const oursPerSub: number[] = [];
      const oursPerTest: number[] = [];
      const barePerSub: number[] = [];
      let oursOk = 0;
      let bareOk = 0;
      const idsOf = (round: number): number[] => Array.from({ length: perRound }, (_, i) => round * perRound + i);
      const sandboxed = async (round: number): Promise<{ submissions_per_s: number }> => {
        const t0 = performance.now();
        await pmap(idsOf(round), concurrency, async (s) => {
          const a = performance.now();
          const v = await verifier.verify({
            code: w.code,
            tests: { inputs: Array.from({ length: testsPer }, (_, t) => w.input(s, t)), outputs: Array.from({ length: testsPer }, (_, t) => w.output(s, t)) },
          });
          oursPerSub.push(performance.now() - a);
          oursPerTest.push(...(v.timingsMs ?? []));
          if (v.status === 'accepted') oursOk++;
        });
        return { submissions_per_s: perRound / ((performance.now() - t0) / 1000) };
      };
      const bare = async (round: number): Promise<{ submissions_per_s: number }> => {
        const t1 = performance.now();
        await pmap(idsOf(round), concurrency, async (s) => {
          const a = performance.now();
          let all = true;
          for (let t = 0; t < testsPer; t++) {
            const out = await runBare(file, w.input(s, t));
            if (!compareOutput(w.output(s, t), out).ok) all = false;
          }
          barePerSub.push(performance.now() - a);
          if (all) bareOk++;
        });
        return { submissions_per_s: perRound / ((performance.now() - t1) / 1000) };
      };
      const paired = await alternate({ rounds, better: { submissions_per_s: 'higher' }, ours: sandboxed, baseline: bare });
      const f = paired.figures.submissions_per_s;
      const o = summarize(oursPerSub);
      const b = summarize(barePerSub);
      report[w.name] = {
        ours: { submissions_per_s: f.ours, accepted: oursOk, per_submission_ms: o },
        bare: { submissions_per_s: f.baseline, accepted: bareOk, per_submission_ms: b },
        ratio: f.ratio,
        /** wall time of each test inside the sandbox (fork to exit), as the harness measured it */
        ours_test_wall_ms: summarize(oursPerTest),
        /** (sandboxed submission latency - bare submission latency) / tests; negative = faster */
        overhead_per_test_ms: { median: (o.median - b.median) / testsPer, p99: (o.p99 - b.p99) / testsPer },
      };
      report.ratios[`throughput_vs_bare_${w.name}`] = f.ratio.median;
    }
    const all = WORKLOADS.map((w) => report.ratios[`throughput_vs_bare_${w.name}`] ?? NaN);
    report.ratios['throughput_vs_bare'] = Math.min(...all);
  } finally {
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
