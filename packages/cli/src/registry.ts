/** Commands are loaded on demand, so `acereason --help` does not pay for onnxruntime or NATS. */
import type { Command } from './command.js';

export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: { summary: 'run a small staged RL job on a local cluster of processes and show its progress', load: async () => (await import('./commands/demo.js')).default },
  run: { summary: 'run the learner of a run file (resumes from its latest checkpoint)', load: async () => (await import('./commands/services.js')).run },
  actor: { summary: 'join a run as a rollout actor (--run ID --nats URL)', load: async () => (await import('./commands/services.js')).actor },
  verifier: { summary: 'join a run as a verifier worker (--run ID --nats URL)', load: async () => (await import('./commands/services.js')).verifier },
  doctor: { summary: 'check this machine: Node, nats-server, onnxruntime, sandbox tools', load: async () => (await import('./commands/doctor.js')).default },
  verify: { summary: 'score responses: verify math | verify code (JSON lines in, JSON lines out)', load: async () => (await import('./commands/verify.js')).default },
  bench: { summary: 'run a benchmark suite and print its JSON: bench <suite> --json', load: async () => (await import('./commands/bench.js')).default },
};
