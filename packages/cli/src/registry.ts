/** Commands are loaded on demand, so `acereason --help` does not pay for onnxruntime or NATS. */
import type { Command } from './command.js';

export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: { summary: 'run a small staged RL job on a local cluster of processes and show its progress', load: async () => (await import('./commands/demo.js')).default },
  ablate: { summary: 'rerun the paper\'s ablations on the demo model: ablate <finding | all> [--seeds N] [--json] [--out DIR] [--quick]', load: async () => (await import('./commands/ablate.js')).default },
  sft: { summary: 'supervised fine-tuning of the demo model on the demo tasks: sft --out FILE.safetensors [--steps N]', load: async () => (await import('./commands/sft.js')).default },
  run: { summary: 'run the learner of a run file (resumes from its latest checkpoint)', load: async () => (await import('./commands/services.js')).run },
  actor: { summary: 'join a run as a rollout actor (--run ID --nats URL)', load: async () => (await import('./commands/services.js')).actor },
  verifier: { summary: 'join a run as a verifier worker (--run ID --nats URL)', load: async () => (await import('./commands/services.js')).verifier },
  up: { summary: 'start a local cluster in the background: up --config run.yaml [--actors N --verifiers M]', load: async () => (await import('./commands/up.js')).up },
  down: { summary: 'stop the background cluster started by `up`', load: async () => (await import('./commands/down.js')).down },
  status: { summary: 'stage, step, version, workers, queue depths, last step\'s metrics (--watch, --json)', load: async () => (await import('./commands/status.js')).status },
  pause: { summary: 'pause the run after the current step', load: async () => (await import('./commands/control.js')).pause },
  resume: { summary: 'resume a paused run', load: async () => (await import('./commands/control.js')).resume },
  stage: { summary: 'stage next | stage NAME: move to another stage after the current step', load: async () => (await import('./commands/control.js')).stage },
  checkpoint: { summary: 'write a checkpoint after the current step and print its folder', load: async () => (await import('./commands/control.js')).checkpoint },
  logs: { summary: 'print (--follow) the background services\' logs: logs [service]', load: async () => (await import('./commands/logs.js')).logs },
  generate: { summary: 'generate from a Hugging Face model directory or checkpoint: generate --model DIR --prompt TEXT [--chat] [--json]', load: async () => (await import('./commands/generate.js')).generate },
  eval: { summary: 'avg@k and pass@k of a checkpoint on a dataset: eval --checkpoint C --data D --k K', load: async () => (await import('./commands/eval.js')).evaluate },
  report: { summary: 'render metrics.jsonl as a self-contained HTML report: report --metrics F --out report.html', load: async () => (await import('./commands/report.js')).report },
  certs: { summary: 'make a development CA, server and per-role client certificates and NATS role passwords: certs --out DIR', load: async () => (await import('./commands/certs.js')).default },
  doctor: { summary: 'check this machine: Node, nats-server, onnxruntime, sandbox tools (--fix installs what is missing)', load: async () => (await import('./commands/doctor.js')).default },
  passrates: { summary: 'query the pass-rate table: --dataset NAME [--prompt ID]', load: async () => (await import('./commands/passrates.js')).default },
  verify: { summary: 'score responses: verify math | verify code (JSON lines in, JSON lines out)', load: async () => (await import('./commands/verify.js')).default },
  curate: { summary: 'clean a prompt dataset (formats, dedup, decontamination, filters, difficulty) or write the demo tasks', load: async () => (await import('./commands/curate.js')).default },
  serve: { summary: 'an OpenAI-compatible HTTP server over the embedded engine: serve --model DIR [--port P]', load: async () => (await import('./commands/serve.js')).serve },
  bench: { summary: 'run a benchmark suite and print its JSON: bench <suite> --json', load: async () => (await import('./commands/bench.js')).default },
};
