import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AceReasonError, ErrorCodes, Streams } from '@acereason/protocol';
import { createLogger } from '../logger.js';
import { NatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { runService } from './run-service.js';

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return { logger: createLogger({ component: 'test', level: 'warn', destination: out }), lines: () => text.split('\n').filter(Boolean) };
}

test('a service started while NATS is down waits for it (the start-up retries), then meets the topology and runs', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const { logger, lines } = capturedLogger();
  let streams: string[] = [];
  const service = runService({
    logger, nats: { servers: `nats://127.0.0.1:${port}` }, topology: {}, startupTimeoutMs: 30_000,
    async create({ topology }) {
      streams = [(await topology.jsm.streams.info(Streams.TASKS)).config.name];
      return { run: async () => 7, stop: () => undefined };
    },
  });
  // The server comes up only after the service's first attempts were refused.
  await new Promise((r) => setTimeout(r, 1500));
  await using nats = await NatsServer.start({ port });
  assert.equal(nats.url, `nats://127.0.0.1:${port}`);
  assert.equal(await service, 7, 'the service ran once NATS answered');
  assert.deepEqual(streams, [Streams.TASKS], 'the topology was created before the service was built');
  const retries = lines().map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg.startsWith('connecting to NATS: NATS not answering yet'));
  assert.ok(retries.length >= 1, 'each refused attempt is logged');
});

test('the start-up gives up after startupTimeoutMs with UNAVAILABLE naming what it waited for', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const { logger } = capturedLogger();
  await assert.rejects(runService({ logger, nats: { servers: `nats://127.0.0.1:${port}` }, topology: {}, startupTimeoutMs: 1000, create: () => Promise.reject(new Error('never built')) }), (err: unknown) => {
    assert.ok(err instanceof AceReasonError);
    assert.equal(err.code, ErrorCodes.UNAVAILABLE);
    assert.match(err.message, new RegExp(`cannot connect to NATS at nats://127.0.0.1:${port}`));
    return true;
  });
});

test('a refusal is not retried: bad credentials end the start-up at once with PERMISSION', { timeout: 60_000 }, async () => {
  await using nats = await NatsServer.start({ extraConfig: 'authorization { user: svc, password: right }' });
  const { logger, lines } = capturedLogger();
  await assert.rejects(runService({ logger, nats: { servers: nats.url, user: 'svc', pass: 'wrong' }, topology: {}, startupTimeoutMs: 600_000, create: () => Promise.reject(new Error('never built')) }), (err: unknown) => {
    assert.ok(err instanceof AceReasonError);
    assert.equal(err.code, ErrorCodes.PERMISSION);
    return true;
  });
  assert.equal(lines().length, 0, 'no retry was attempted');
});
