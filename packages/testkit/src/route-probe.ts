/**
 * Route admission tests: a nats-server that tries to join a cluster through one node's route port
 * with the given route security (the inside of a `cluster {}` block: tls, authorization; '' for
 * plaintext). It keeps retrying, as nats-server does, until disposed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { freePort, natsServerBinary, spawnChild, type ChildHandle } from '@acereason/transport';
import { waitFor } from './wait.js';

export class RouteProbe implements AsyncDisposable {
  private constructor(readonly name: string, readonly child: ChildHandle, private readonly monitor: number) {}

  static async start(o: { name: string; routePort: number; security: string; dir: string; cluster?: string }): Promise<RouteProbe> {
    const monitor = await freePort();
    const conf = join(o.dir, `probe-${o.name.replace(/\W+/g, '-')}.conf`);
    writeFileSync(conf, [
      'listen: "127.0.0.1:-1"', `http: "127.0.0.1:${monitor}"`,
      'cluster {', `  name: "${o.cluster ?? 'acereason'}"`, `  listen: "127.0.0.1:${await freePort()}"`, `  routes: ["nats-route://127.0.0.1:${o.routePort}"]`, o.security, '}', '',
    ].join('\n'));
    return new RouteProbe(o.name, spawnChild({ name: o.name, command: natsServerBinary(), args: ['-c', conf] }), monitor);
  }

  /** The routes this server holds (its /routez). */
  async routes(): Promise<number> {
    return ((await (await fetch(`http://127.0.0.1:${this.monitor}/routez`)).json()) as { num_routes: number }).num_routes;
  }

  /** Joins: holds `n` routes (the dialled node's peers are learned from it). */
  async joins(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await this.routes().catch(() => 0)) === n, { what: `${this.name}: ${n} routes`, timeoutMs }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${this.child.output}`);
    });
  }

  /** Refused: a log line matching `reason` twice (it retried and was refused again), and no route held. */
  async refused(reason: RegExp, timeoutMs = 20_000): Promise<void> {
    const times = (): number => this.child.output.split('\n').filter((l) => reason.test(l)).length;
    await waitFor(() => times() >= 2, { what: `${this.name}: refused twice (${String(reason)})`, timeoutMs }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${this.child.output}`);
    });
    assert.equal(await this.routes(), 0, `${this.name}: holds no route\n${this.child.output}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.child.stop(3000);
  }
}
