import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AceReasonError } from '@acereason/protocol';
import { Lifecycle } from './lifecycle.js';

type S = 'starting' | 'running' | 'stopped';

test('a lifecycle logs every transition and refuses one its table does not allow', () => {
  const lines: string[] = [];
  const logger = pino({ base: null }, new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } }));
  const life = new Lifecycle<S>('svc', 'starting', { starting: ['running', 'stopped'], running: ['stopped'], stopped: [] }, logger);
  life.to('running', 'ready');
  assert.equal(life.state, 'running');
  assert.ok(life.is('running', 'stopped'));
  assert.throws(() => life.to('starting'), (e: unknown) => e instanceof AceReasonError && e.code === 'INTERNAL' && /svc: illegal lifecycle transition running -> starting/.test(e.message));
  assert.equal(life.state, 'running', 'a refused transition changes nothing');
  assert.equal(life.tryTo('starting'), false);
  life.to('running');
  assert.equal(life.tryTo('stopped'), true);
  const logged = lines.map((l) => JSON.parse(l) as { from: string; to: string; why?: string });
  assert.deepEqual(logged.map((l) => [l.from, l.to, l.why]), [['starting', 'running', 'ready'], ['running', 'stopped', undefined]]);
});
