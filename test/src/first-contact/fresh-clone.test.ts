/**
 * First contact from a fresh clone, as a new user meets it: `npm ci` (as scripts/setup.sh runs
 * it) prints no warning, links the `acereason` command before anything is built, and that command
 * says what to do until the build exists; after the build `npx acereason` runs, and the doctor is
 * green with the clone's own node_modules (onnxruntime, the native msgpack codec).
 *
 * Cost: the clone is local (hardlinked objects) and `npm ci` prefers npm's cache, about half a
 * minute on 2 cores. The build step is not repeated: the clone is of this checkout's commit, so
 * its build output is this checkout's dist/ folders, hardlinked in (a full build costs a minute).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertAvailable, skipUnlessCi, tempDir } from '@acereason/testkit';
import { ROOT } from '../deploy/repo.js';

const notGit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--git-dir'], { stdio: 'ignore' }).status === 0 ? false : 'not a git checkout (the test clones it)';

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for its children. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return env;
}

test('fresh clone: npm ci prints no warnings and links `acereason`; `npx acereason` works after the build', { skip: skipUnlessCi(notGit), timeout: 300_000 }, async () => {
  assertAvailable(notGit);
  await using dir = await tempDir('acereason-fresh-clone-');
  const clone = join(dir.path, 'acereason');
  execFileSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'pipe' });
  // scripts/setup.sh's install line: the CPU build of onnxruntime-node.
  const env = { ...userEnv(), ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: clone, env, encoding: 'utf8', timeout: 240_000 });

  const install = sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
  assert.equal(install.status, 0, install.stderr);
  const warnings = install.stderr.split('\n').filter((l) => /^npm warn/i.test(l));
  assert.deepEqual(warnings, [], 'npm ci leaves no warning to puzzle over');
  assert.ok(existsSync(join(clone, 'node_modules', '.bin', 'acereason')), 'npm linked the acereason command at install time');

  const early = sh('npx', ['acereason', '--version']);
  assert.equal(early.status, 1);
  assert.match(early.stderr, /the CLI is not built yet\. Run `npm run build`/);

  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    if (existsSync(join(ROOT, 'packages', pkg, 'dist'))) execFileSync('cp', ['-al', join(ROOT, 'packages', pkg, 'dist'), join(clone, 'packages', pkg, 'dist')]);
  }
  const version = sh('npx', ['acereason', '--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const doctor = sh('npx', ['acereason', 'doctor', '--json']);
  const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: { id: string; ok: boolean; detail: string }[] };
  assert.equal(report.ok, true, doctor.stdout);
  for (const id of ['onnxruntime', 'msgpack-native']) assert.ok(report.checks.find((c) => c.id === id)?.ok, `${id} works from the clone's install`);
});
