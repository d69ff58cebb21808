/**
 * Tests that need a tool the machine may lack (docker-compose, `ip netns`, chromium, nats-server).
 * On a developer's machine such a test is skipped with the reason; in CI (`CI=true`, which
 * `.ci/run` sets) it is never skipped: it runs and fails, naming what is missing, so a tool that
 * falls out of CI's install list cannot turn into a silent skip.
 */
import assert from 'node:assert/strict';

export const inCi = (): boolean => process.env.CI === 'true';

/** The `skip` option of a test that needs something: `missing` is the reason, or undefined/false when present. */
export function skipUnlessCi(missing: string | undefined | false): string | false {
  if (missing === undefined || missing === false) return false;
  return inCi() ? false : missing;
}

/** First line of such a test: in CI, fails at once with the reason when the tool is missing. */
export function assertAvailable(missing: string | undefined | false): void {
  if (missing !== undefined && missing !== false) assert.fail(`needed in CI: ${missing}`);
}
