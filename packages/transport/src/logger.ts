/**
 * pino loggers: JSON to stdout, pretty when stdout is a TTY (or ACEREASON_LOG_PRETTY=1).
 * Components get a child logger carrying `{component, ...}`; libraries take a Logger, never print.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  component: string;
  level?: string;
  pretty?: boolean;
  /** Extra bindings on every line (actorId, runId, ...). */
  bindings?: Record<string, unknown>;
  /** Where to write; default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const level = settings.level ?? process.env.ACEREASON_LOG_LEVEL ?? 'info';
  const pretty = settings.pretty ?? (process.env.ACEREASON_LOG_PRETTY === '1' || (process.stdout.isTTY === true && process.env.ACEREASON_LOG_PRETTY !== '0'));
  const options: LoggerOptions = { level, base: { component: settings.component, pid: process.pid, ...settings.bindings } };
  if (pretty && !settings.destination) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that discards everything (for tests and benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
