/**
 * A real `nats-server -js` on a free loopback port with a fresh store directory. It can be
 * killed and restarted on the same port and store (for fault tests).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { spawnChild, type ChildHandle, type Exit } from './child.js';
import { freePort } from './ports.js';

export interface NatsServerSettings {
  /** Extra nats-server configuration text (authorization, tls ...), appended to the generated config. */
  extraConfig?: string;
  /** Use this store dir instead of a fresh temp dir (it is then not deleted on dispose). */
  storeDir?: string;
  port?: number;
  /** Bind address (default 127.0.0.1). */
  host?: string;
}

export class NatsServer implements AsyncDisposable {
  private child: ChildHandle | undefined;
  private constructor(
    readonly port: number,
    readonly host: string,
    readonly storeDir: string,
    private readonly ownsStore: boolean,
    private readonly configPath: string,
  ) {}

  static async start(settings: NatsServerSettings = {}): Promise<NatsServer> {
    const port = settings.port ?? (await freePort());
    const host = settings.host ?? '127.0.0.1';
    const storeDir = settings.storeDir ?? (await mkdtemp(join(tmpdir(), 'acereason-nats-')));
    const configPath = join(storeDir, 'nats.conf');
    const config = [
      `listen: "${host}:${port}"`,
      'jetstream {',
      `  store_dir: "${join(storeDir, 'js')}"`,
      '  max_memory_store: 256MB',
      '  max_file_store: 8GB',
      '}',
      'max_payload: 8MB',
      settings.extraConfig ?? '',
    ].join('\n');
    await writeFile(configPath, config);
    const server = new NatsServer(port, host, storeDir, settings.storeDir === undefined, configPath);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child?.running ?? false;
  }

  private async launch(): Promise<void> {
    const child = spawnChild({ name: `nats:${this.port}`, command: natsServerBinary(), args: ['-c', this.configPath] });
    this.child = child;
    await child.waitForOutput(/Server is ready/, 20_000).catch(async (err: unknown) => {
      await child.stop(3000);
      throw err;
    });
  }

  /** Waits until the server has logged a line matching `re` (since it was last started). */
  async waitForOutput(re: RegExp, timeoutMs: number): Promise<void> {
    if (!this.child) throw new Error('nats-server is not started');
    await this.child.waitForOutput(re, timeoutMs);
  }

  /** Kills the server abruptly (SIGKILL by default): nothing is flushed beyond what JetStream synced. */
  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<Exit | undefined> {
    return this.child?.kill(sig);
  }

  /** Starts it again on the same port and store. */
  async restart(): Promise<void> {
    if (this.child?.running) await this.child.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.child?.stop(3000);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.ownsStore) await rm(this.storeDir, { recursive: true, force: true });
  }
}

export function natsServerBinary(): string {
  return process.env.ACEREASON_NATS_SERVER ?? 'nats-server';
}

/** The installed nats-server's version, or undefined when it is not on PATH. */
export function natsServerVersion(): string | undefined {
  try {
    const out = execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8', timeout: 5000 });
    return out.trim().replace(/^nats-server:\s*/, '');
  } catch {
    return undefined;
  }
}

export function startNatsServer(settings: NatsServerSettings = {}): Promise<NatsServer> {
  return NatsServer.start(settings);
}
