/** Commands are loaded on demand, so `acereason --help` does not pay for onnxruntime or NATS. */
import type { Command } from './command.js';

export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  doctor: { summary: 'check this machine: Node, nats-server, onnxruntime, sandbox tools', load: async () => (await import('./commands/doctor.js')).default },
  verify: { summary: 'score responses: verify math | verify code (JSON lines in, JSON lines out)', load: async () => (await import('./commands/verify.js')).default },
  bench: { summary: 'run a benchmark suite and print its JSON: bench <suite> --json', load: async () => (await import('./commands/bench.js')).default },
};
