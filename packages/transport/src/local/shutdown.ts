/**
 * Graceful shutdown for service processes: the first SIGTERM/SIGINT asks the service to drain
 * (finish in-flight work, then exit); a second one exits at once.
 */
import type { Logger } from '../logger.js';

export function onShutdown(drain: (signal: NodeJS.Signals) => void, logger?: Logger): () => void {
  let asked = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (asked) {
      logger?.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    asked = true;
    logger?.info({ signal }, 'draining (send the signal again to exit now)');
    drain(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
