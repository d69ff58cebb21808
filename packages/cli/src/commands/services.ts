/** `acereason run | actor | verifier`: the three services, to start by hand on any host. */
import { CommandLineError } from '@acereason/transport';
import { UsageError, type Command } from '../command.js';

function wrap(name: string, summary: string, load: () => Promise<{ main: (argv: string[]) => Promise<number>; usage: string }>): Command {
  return {
    name, summary, usage: `acereason ${name} ...`,
    async run(args) {
      const { main, usage } = await load();
      try {
        return await main(args);
      } catch (err) {
        // The services throw a typed CommandLineError for a bad command line; node:util's
        // parseArgs throws errors with ERR_PARSE_ARGS_* codes.
        if (err instanceof CommandLineError) throw new UsageError(err.message, `usage: ${err.usage ?? usage}`);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
          throw new UsageError(((err as Error).message.split('\n')[0] ?? ''), `usage: ${usage}`);
        }
        throw err;
      }
    },
  };
}

export const run = wrap('run', 'run the learner of a run file (resumes from its latest checkpoint)', async () => {
  const m = await import('@acereason/learner');
  return { main: m.learnerMain, usage: m.LEARNER_USAGE };
});
export const actor = wrap('actor', 'join a run as a rollout actor', async () => {
  const m = await import('@acereason/actor');
  return { main: m.actorMain, usage: m.ACTOR_USAGE };
});
export const verifier = wrap('verifier', 'join a run as a verifier worker', async () => {
  const m = await import('@acereason/verifier');
  return { main: m.verifierMain, usage: m.VERIFIER_USAGE };
});
