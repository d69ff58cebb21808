/** `acereason pause | resume | stage next | checkpoint`: LearnerControl calls to the run's learner. */
import { ErrorCodes, toAceReasonError, type ControlReply } from '@acereason/protocol';
import { parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { GRPC_TOKEN_ENV, OPERATOR_SECURITY_USAGE, TARGET_FLAGS, controlClient, resolveTarget, type ControlClient } from '../local/target.js';

const TARGET = `[--learner HOST:PORT | --state FILE] [${OPERATOR_SECURITY_USAGE}] [--json]`;

function control(name: string, summary: string, usage: string, call: (c: ControlClient, positionals: string[], reason: string) => Promise<ControlReply>, check: (positionals: string[]) => void = () => undefined): Command {
  return {
    name, summary, usage,
    async run(args, ctx) {
      const { values, positionals } = parseFlags(args, { ...TARGET_FLAGS, json: { type: 'boolean' }, reason: { type: 'string' } }, usage);
      check(positionals);
      const target = resolveTarget(values, ['learnerAddress']);
      const client = controlClient(target, 300_000);
      let reply: ControlReply;
      try {
        reply = await call(client, positionals, values.reason ?? 'operator');
      } catch (err) {
        // The gRPC client turns every failure into a typed error (a refused connection is UNAVAILABLE, a deadline TIMEOUT).
        const e = toAceReasonError(err);
        if (e.code === ErrorCodes.PERMISSION) {
          throw new UsageError(`the learner at ${target.learnerAddress} refused ${name} (${e.message})`, `Call it as the operator: its client certificate (--tls-cert/--tls-key) or its token (--grpc-token, or ${GRPC_TOKEN_ENV}).`);
        }
        if (e.code === ErrorCodes.UNAVAILABLE || e.code === ErrorCodes.TIMEOUT) {
          throw new UsageError(`the learner at ${target.learnerAddress} does not answer (${e.message})`, 'Check it with `acereason status` and `acereason logs learner`.');
        }
        throw err;
      } finally {
        client.close();
      }
      if (values.json) ctx.stdout.write(JSON.stringify(reply) + '\n');
      else ctx.stdout.write(reply.ok ? `${reply.message}${reply.checkpointPath ? `: ${reply.checkpointPath}` : ''}\n` : `refused: ${reply.error?.message ?? reply.message}\n`);
      return reply.ok ? 0 : 1;
    },
  };
}

export const pause = control('pause', 'pause the run after the current step', `acereason pause [--reason TEXT] ${TARGET}`, (c, _p, reason) => c.pause({ reason }));
export const resume = control('resume', 'resume a paused run', `acereason resume ${TARGET}`, (c) => c.resume({}));
export const stage = control('stage', 'stage next | stage NAME: move the run to the next (or a named) stage after the current step', `acereason stage next|NAME ${TARGET}`,
  (c, [to]) => c.advanceStage({ toStage: to === 'next' ? '' : (to ?? '') }),
  (positionals) => {
    if (positionals.length !== 1) throw new UsageError('say which stage: `stage next` or `stage NAME`', `usage: acereason stage next|NAME ${TARGET}`);
  });
export const checkpoint = control('checkpoint', 'write a checkpoint at the end of the current step and print its folder', `acereason checkpoint ${TARGET}`, (c) => c.checkpoint({}));
