/**
 * Bringing a work stream made by an older version to work-queue retention. JetStream cannot change
 * a stream's retention in place, so the stream has to be deleted and made again, which deletes
 * its messages and consumers. That is only done when nothing in it is unconsumed: every message
 * lies under the filter of a consumer that has been delivered and has acked everything it
 * matches. Otherwise the stream is left as it is and the owner refuses to start, naming the
 * stream, what it holds and what to do; unconsumed messages are never deleted.
 *
 * The check is made twice: once to decide, then again after the stream's subjects are moved to a
 * placeholder, so that nothing can be published into it between the check and the delete
 * (publishers see no stream for a moment and retry). A migration cut short leaves a stream that
 * the next start migrates again (it still has the old retention) or one it creates (it is gone).
 */
import type { ConsumerInfo, JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Logger } from '../logger.js';

/** Messages of one subject that no consumer has acked. */
export interface UnconsumedSubject {
  subject: string;
  messages: number;
}

/** Whether the NATS subject `subject` lies under `filter` (`*` one token, `>` one or more). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

function filtersOf(c: ConsumerInfo): string[] {
  const cfg = c.config as ConsumerInfo['config'] & { filter_subjects?: string[] };
  const many = cfg.filter_subjects ?? [];
  if (many.length > 0) return many;
  return cfg.filter_subject ? [cfg.filter_subject] : ['>'];
}

/** A consumer has settled every message under its filter: it saw all of them and acks none is pending. */
function settledAll(c: ConsumerInfo): boolean {
  return c.config.deliver_policy === 'all' && c.num_pending === 0 && c.num_ack_pending === 0;
}

/** The subjects of `stream` with messages no consumer has settled (empty: all consumed, or none stored). */
export async function unconsumedSubjects(jsm: JetStreamManager, stream: string): Promise<UnconsumedSubject[]> {
  const info = await jsm.streams.info(stream, { subjects_filter: '>' });
  if (info.state.messages === 0) return [];
  const consumers: ConsumerInfo[] = [];
  for await (const c of jsm.consumers.list(stream)) consumers.push(c);
  const out: UnconsumedSubject[] = [];
  for (const [subject, messages] of Object.entries(info.state.subjects ?? {})) {
    const consumed = consumers.some((c) => settledAll(c) && filtersOf(c).some((f) => subjectMatches(f, subject)));
    if (!consumed) out.push({ subject, messages });
  }
  // A server that does not list subjects: nothing can be shown consumed.
  if (info.state.subjects === undefined) out.push({ subject: '(all)', messages: info.state.messages });
  return out;
}

function refusal(stream: string, from: string, to: string, left: UnconsumedSubject[]): AceReasonError {
  const total = left.reduce((a, u) => a + u.messages, 0);
  const shown = left.slice(0, 5).map((u) => `${u.subject}: ${u.messages}`).join(', ') + (left.length > 5 ? `, and ${left.length - 5} more subjects` : '');
  return new AceReasonError(ErrorCodes.CONFLICT,
    `stream ${stream} has ${from} retention (made by an older version); this version needs ${to} retention (a message leaves the stream once it is consumed), and JetStream cannot change retention in place. ` +
    `It holds ${total} messages no consumer has acked (${shown}), so it was left as it is: nothing unconsumed is deleted. ` +
    `Finish the run that owns them with the version that made the stream, or, if they are not needed, remove them with \`nats stream purge ${stream}\`; then start the learner again.`,
    { field: stream, retryable: false });
}

/**
 * Makes `cfg.name` again with `cfg`'s retention when everything it holds was consumed; throws
 * CONFLICT (naming the stream and the fix) otherwise.
 */
export async function migrateRetention(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, info: StreamInfo, logger?: Logger): Promise<void> {
  const name = cfg.name;
  const from = String(info.config.retention);
  const to = String(cfg.retention);
  const before = await unconsumedSubjects(jsm, name);
  if (before.length > 0) throw refusal(name, from, to, before);
  // Fence: with its subjects moved away, nothing new can enter between the check and the delete.
  const placeholder = `acereason._migrating.${name}`;
  const original = info.config.subjects;
  if (JSON.stringify(original) !== JSON.stringify([placeholder])) await jsm.streams.update(name, { subjects: [placeholder] });
  const after = await unconsumedSubjects(jsm, name);
  if (after.length > 0) {
    await jsm.streams.update(name, { subjects: cfg.subjects ?? original });
    throw refusal(name, from, to, after);
  }
  const removed = (await jsm.streams.info(name)).state.messages;
  await jsm.streams.delete(name);
  await jsm.streams.add(cfg);
  logger?.warn({ stream: name, from, to, consumedMessagesRemoved: removed }, 'work stream made again with the retention this version needs (everything it held was consumed)');
}
