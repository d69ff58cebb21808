/**
 * `acereason demo`: a local cluster (nats-server, learner, 2 actors, 2 verifiers) as processes,
 * running short math stages with growing length limits on the demo model, with live progress.
 * It writes metrics.jsonl, checkpoints and summary.json under --out.
 */
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { natsServerVersion } from '@acereason/transport';
import { parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { LocalCluster } from '../local/cluster.js';
import { arithmeticProblems } from '../local/demo-data.js';

interface Line {
  step: number;
  stage: string;
  reward_mean: number;
  accuracy: number;
  response_len_mean: number;
  truncation_rate: number;
  step_s: number;
  actors: number;
  verifiers: number;
}

function runYaml(steps: number): string {
  return `
run: { id: demo, seed: 1, out_dir: . }
model: { preset: demo, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math-train.jsonl, domain: math, prompt_template: "q:{problem}=" }
algorithm: { mode: sync }
optimizer: { lr: 0.002, weight_decay: 0 }
stages:
  - { name: math-16, dataset: arith, steps: ${steps}, batch_prompts: 8, group_size: 8, max_response_tokens: 16, temperature: 1.0, overlong: mask }
  - { name: math-32, dataset: arith, steps: ${steps}, max_response_tokens: 32 }
checkpoint: { every_steps: 5 }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: 10s, step_timeout: 2m }
`;
}

const demo: Command = {
  name: 'demo',
  summary: 'run a small staged RL job on a local cluster of processes and show its progress',
  usage: 'acereason demo [--out DIR] [--quick]',
  async run(args, ctx) {
    const { values } = parseFlags(args, { out: { type: 'string' }, quick: { type: 'boolean' } }, this.usage);
    if (!natsServerVersion()) throw new UsageError('nats-server is not installed', 'install it with: apt-get install -y nats-server   (then run `acereason doctor`)');
    const out = resolve(values.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
    mkdirSync(out, { recursive: true });
    const steps = values.quick ? 3 : 10;
    writeFileSync(join(out, 'math-train.jsonl'), arithmeticProblems(500).map((p) => JSON.stringify(p)).join('\n') + '\n');
    writeFileSync(join(out, 'run.yaml'), runYaml(steps));
    ctx.stdout.write(`acereason demo: local cluster (nats-server, learner, 2 actors, 2 verifiers), 2 math stages x ${steps} steps\noutput: ${out}\n\n`);
    const t0 = Date.now();
    await using cluster = new LocalCluster({ configPath: join(out, 'run.yaml'), runId: 'demo', actors: 2, verifiers: 2, logDir: join(out, 'logs'), verifierArgs: ['--domain', 'math'], learnerArgs: ['--fresh'] });
    await cluster.start();
    const metricsPath = join(out, 'metrics.jsonl');
    let shown = 0;
    const show = (): void => {
      if (!existsSync(metricsPath)) return;
      const lines = readFileSync(metricsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
      for (const m of lines.slice(shown)) {
        const total = steps * 2;
        const done = m.step + 1;
        const eta = ((Date.now() - t0) / done) * (total - done) / 1000;
        ctx.stdout.write(`stage ${m.stage.padEnd(8)} step ${String(m.step).padStart(3)}  reward ${m.reward_mean.toFixed(3)}  acc ${m.accuracy.toFixed(3)}  len ${m.response_len_mean.toFixed(1).padStart(5)}  trunc ${m.truncation_rate.toFixed(2)}  ${m.step_s.toFixed(2)}s/step  actors ${m.actors} verifiers ${m.verifiers}  eta ${eta.toFixed(0)}s\n`);
      }
      shown = lines.length;
    };
    const timer = setInterval(show, 500);
    const code = await cluster.waitForLearner();
    clearInterval(timer);
    show();
    const wall = (Date.now() - t0) / 1000;
    writeFileSync(join(out, 'summary.json'), JSON.stringify({ steps: shown, wall_s: wall, exit_code: code }, null, 2) + '\n');
    if (code !== 0) throw new Error(`the learner exited with code ${code}; see ${join(out, 'logs', 'learner.log')}`);
    ctx.stdout.write(`\ndone in ${wall.toFixed(0)} s: ${join(out, 'metrics.jsonl')}, ${join(out, 'summary.json')}, logs in ${join(out, 'logs')}\n`);
    return 0;
  },
};
export default demo;
