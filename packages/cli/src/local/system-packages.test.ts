import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installPlan, type Platform } from './system-packages.js';

const linux = (p: Partial<Platform>): Platform => ({ os: 'linux', manager: 'apt', root: true, sudo: false, ...p });

test('Debian/Ubuntu as root: apt-get runs directly, and the line shown is the same install', () => {
  const p = installPlan(['nats-server', 'bubblewrap'], linux({}));
  assert.equal(p.line, 'apt-get install -y nats-server bubblewrap');
  assert.deepEqual(p.commands, [
    ['apt-get', 'update', '-qq'],
    ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'nats-server', 'bubblewrap'],
  ]);
  assert.deepEqual(p.manual, []);
});

test('not root: through sudo when there is sudo, otherwise only the line to run as root', () => {
  const viaSudo = installPlan(['nats-server'], linux({ root: false, sudo: true }));
  assert.equal(viaSudo.line, 'sudo apt-get install -y nats-server');
  assert.deepEqual(viaSudo.commands?.map((c) => c[0]), ['sudo', 'sudo']);
  const noSudo = installPlan(['nats-server'], linux({ root: false, sudo: false }));
  assert.equal(noSudo.line, 'sudo apt-get install -y nats-server');
  assert.equal(noSudo.commands, undefined, 'nothing is run that cannot succeed');
});

test('macOS with Homebrew: the brew line, never run; bubblewrap has no package there and says why', () => {
  const p = installPlan(['nats-server', 'bubblewrap', 'g++'], { os: 'darwin', manager: 'brew', root: false, sudo: true });
  assert.equal(p.line, 'brew install nats-server gcc');
  assert.equal(p.commands, undefined);
  assert.equal(p.manual.length, 1);
  assert.match(p.manual[0] ?? '', /^bubblewrap: .*Linux/);
});

test('other Linux (dnf) and unknown platforms get their own lines', () => {
  assert.equal(installPlan(['g++'], linux({ manager: 'dnf', root: false, sudo: true })).line, 'sudo dnf install -y gcc-c++');
  const none = installPlan(['nats-server'], { os: 'freebsd', manager: 'none', root: false, sudo: false });
  assert.match(none.line, /^nats-server: download nats-server 2\.9\+ from https:\/\/github\.com\/nats-io\/nats-server\/releases/);
  assert.equal(none.commands, undefined);
});
