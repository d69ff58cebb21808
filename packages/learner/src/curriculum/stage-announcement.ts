/** A stage change as the rest of the system sees it: one StageChanged message on the run's stage subject, and a log line. */
import { codecs, SCHEMA_VERSION, Subjects, type StageChanged } from '@acereason/protocol';
import { publishMessage, type jetstreamClient, type Logger } from '@acereason/transport';
import type { StageConfig } from '../config/run-config.js';

export interface StageChange {
  runId: string;
  /** The stage left (none when the run enters its first stage). */
  from: StageConfig | undefined;
  /** The index of the stage entered; `next` is that stage, undefined when every stage ran. */
  to: number;
  next: StageConfig | undefined;
  /** The run's step at the change. */
  step: number;
  reason: string;
}

export async function announceStageChange(js: ReturnType<typeof jetstreamClient>, c: StageChange, logger: Logger): Promise<void> {
  const msg: StageChanged = {
    schema: SCHEMA_VERSION, kind: 'StageChanged', runId: c.runId, id: `${c.runId}.stage.${c.to}.${c.step}`, createdAtMs: Date.now(),
    ...(c.from ? { fromStage: c.from.name } : {}), toStage: c.next?.name ?? 'finished', stageIndex: c.to, step: c.step, reason: c.reason,
  };
  await publishMessage(js, Subjects.stage(c.runId), codecs.StageChanged, msg);
  logger.info({ from: c.from?.name, to: c.next?.name ?? 'finished', step: c.step, reason: c.reason }, 'stage changed');
}
