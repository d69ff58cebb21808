/** Paths of the service entry points, resolved through the workspace packages. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function binOf(pkg: string): string {
  return join(dirname(require.resolve(pkg)), 'bin.js');
}

export const serviceBins = {
  learner: (): string => binOf('@acereason/learner'),
  actor: (): string => binOf('@acereason/actor'),
  verifier: (): string => binOf('@acereason/verifier'),
};
