/** LearnerControl over gRPC: status, pause/resume, advance stage, checkpoint now, metrics stream. */
import { LearnerControlDefinition, toErrorData, type ControlReply, type LearnerStatus, type StepMetrics as WireStepMetrics } from '@acereason/protocol';
import type { ServiceHandlers } from '@acereason/transport';
import type { StepMetrics } from '../metrics/step-metrics.js';

export interface ControlTarget {
  status(): LearnerStatus;
  pause(reason: string): void;
  resume(): void;
  requestAdvance(toStage: string): void;
  requestCheckpoint(): Promise<string>;
  subscribeMetrics(l: (m: StepMetrics) => void): () => void;
  lastMetrics(): StepMetrics | undefined;
}

export function toWireMetrics(m: StepMetrics): WireStepMetrics {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number') values[k] = v;
  return { step: m.step, stage: m.stage, policyVersion: m.policy_version, values, timeMs: m.time_ms };
}

const ok = (message: string, extra: Partial<ControlReply> = {}): ControlReply => ({ ok: true, message, error: null, checkpointPath: '', ...extra });

export function controlHandlers(t: ControlTarget): ServiceHandlers<typeof LearnerControlDefinition> {
  const guard = async (fn: () => Promise<ControlReply> | ControlReply): Promise<ControlReply> => {
    try {
      return await fn();
    } catch (err) {
      const e = toErrorData(err);
      return { ok: false, message: e.message, error: { code: e.code, message: e.message, retryable: e.retryable }, checkpointPath: '' };
    }
  };
  return {
    getStatus: async () => t.status(),
    pause: (req) => guard(() => {
      t.pause(req.reason || 'operator');
      return ok('paused: the current step finishes, no new step starts');
    }),
    resume: () => guard(() => {
      t.resume();
      return ok('resumed');
    }),
    advanceStage: (req) => guard(() => {
      t.requestAdvance(req.toStage);
      return ok(`the run moves to ${req.toStage || 'the next stage'} after the current step`);
    }),
    checkpoint: () => guard(async () => {
      const path = await t.requestCheckpoint();
      return ok(`checkpoint written`, { checkpointPath: path });
    }),
    streamMetrics: async function* (_req, ctx) {
      const queue: StepMetrics[] = [];
      let wake: (() => void) | undefined;
      const last = t.lastMetrics();
      if (last) queue.push(last);
      const unsubscribe = t.subscribeMetrics((m) => {
        queue.push(m);
        wake?.();
      });
      ctx.signal.addEventListener('abort', () => wake?.(), { once: true });
      try {
        while (!ctx.signal.aborted) {
          const m = queue.shift();
          if (m) yield toWireMetrics(m);
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
      }
    },
  };
}
