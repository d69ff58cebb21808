/**
 * Runs a service of a rendered compose file (`docker-compose config`) as a local process: the
 * image's entrypoint script (or, for the nats image, nats-server) with the service's command,
 * environment and mounted files. What a container engine would provide is replaced, and only that:
 *
 * - each mount becomes a path under the service's own root dir (`<root>/<service>/<container path>`,
 *   a symlink to the named volume's dir or to the bind-mounted host path), and every argument,
 *   environment value and bind-mounted config file that names a container path gets that prefix;
 * - a service's container port becomes a free local port of its own (several services listen on
 *   9464, the NATS nodes all on 4222 and 6222, each in its own container): `nats-1:6222` and, in
 *   nats-1's own files, `0.0.0.0:6222` become `127.0.0.1:<nats-1's port for 6222>`;
 * - the nats image's config file and the files it includes (nats-cluster.conf -> nats.conf ->
 *   the bundle's nats-auth.conf) are read with those rewrites into per-service copies;
 * - the image's ENV lines (read from the Dockerfile's target stage) and its entrypoint come from
 *   the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { freePort, spawnChild, natsServerBinary, type ChildHandle } from '@acereason/testkit';
import { parse } from 'yaml';
import { INFRA, ROOT, isRecord, read } from './repo.js';

export const COMPOSE_DIR = join(INFRA, 'compose');

export interface RenderedService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  image?: string;
}

export interface LocalWorld {
  /** Per-service root dirs, named volumes and rendered config copies live here. */
  dir: string;
  /** The local port standing in for container port `port` of `service`. */
  ownPorts: (service: string, port: number) => number;
  /** The compose host names (the services that have ports here). */
  hosts: string[];
}

/** The metrics port the image's ENV gives every acereason container. */
const IMAGE_METRICS_PORT = 9464;

/** A world with a free local port for each service's listed container ports, and the image's metrics port for every acereason service. */
export async function localWorld(dir: string, services: Record<string, RenderedService>, ports: Record<string, number[]>): Promise<LocalWorld> {
  const local = new Map<string, number>();
  const all: Record<string, number[]> = { ...ports };
  for (const [name, svc] of Object.entries(services)) {
    if (!String(svc.image).startsWith('nats:')) all[name] = [...new Set([...(all[name] ?? []), IMAGE_METRICS_PORT])];
  }
  for (const [svc, list] of Object.entries(all)) for (const p of list) local.set(`${svc}:${p}`, await freePort());
  return {
    dir,
    hosts: Object.keys(ports),
    ownPorts: (svc, p) => {
      const port = local.get(`${svc}:${p}`);
      if (port === undefined) throw new Error(`compose-local: no local port for ${svc}:${p} (add it to localWorld's ports)`);
      return port;
    },
  };
}

/** `ENV A=1 \ B=2` of a Dockerfile stage, as a map. */
export function imageEnv(stage: string): Record<string, string> {
  const lines = read('infra/docker/Dockerfile').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM\\s.*\\sAS\\s${stage}\\s*$`).test(l));
  const out: Record<string, string> = {};
  let inEnv = false;
  for (const l of lines.slice(start + 1)) {
    if (/^FROM\s/.test(l)) break;
    if (/^ENV\s/.test(l)) inEnv = true;
    if (!inEnv) continue;
    for (const m of l.replace(/^ENV\s+/, '').matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) out[m[1] ?? ''] = m[2] ?? '';
    if (!l.trimEnd().endsWith('\\')) inEnv = false;
  }
  return out;
}

interface Mount {
  source: string;
  target: string;
}

function mountsOf(svc: RenderedService): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

/** Makes `<dir>/<service>/<target>` point at each mount's source; returns the container -> local path rewriter. */
function mountAll(world: LocalWorld, name: string, svc: RenderedService): (s: string) => string {
  const root = join(world.dir, 'root', name);
  const mounts = mountsOf(svc).sort((a, b) => b.target.length - a.target.length);
  for (const m of mounts) {
    const local = join(root, m.target);
    const source = isAbsolute(m.source) ? m.source : join(world.dir, 'volumes', m.source);
    if (!isAbsolute(m.source)) mkdirSync(source, { recursive: true });
    mkdirSync(dirname(local), { recursive: true });
    if (!existsSync(local)) symlinkSync(source, local);
  }
  // A mount's parent dirs exist in the service's root too (`--bundles /tls` writes into /tls/<name>).
  const paths = new Set<string>();
  for (const m of mounts) for (let p = m.target; p !== '/' && p !== '.'; p = dirname(p)) paths.add(p);
  if (paths.size === 0) return (s) => s;
  // One pass, longest path first, and only where a path starts (not inside a longer word).
  const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s"'=:,])(${[...paths].sort((a, b) => b.length - a.length).map(esc).join('|')})(?=$|[/\\s"',])`, 'gm');
  return (s) => s.replace(re, (_m, lead: string, target: string) => `${lead}${join(root, target)}`);
}

function rewriteAddresses(world: LocalWorld, name: string, s: string): string {
  const hosts = [...world.hosts].sort((a, b) => b.length - a.length).map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const out = hosts === '' ? s : s.replace(new RegExp(`(?<![\\w.-])(${hosts}):(\\d+)\\b`, 'g'), (_m, h: string, p: string) => `127.0.0.1:${world.ownPorts(h, Number(p))}`);
  return out.replace(/\b0\.0\.0\.0:(\d+)\b/g, (_m, p: string) => `127.0.0.1:${world.ownPorts(name, Number(p))}`);
}

/**
 * A nats-server config file as service `name` sees it, written to a copy of its own: rewritten by
 * `rw`, its monitoring port its own, and every `include` (resolved against the original file's dir,
 * as nats-server does) replaced by the rendered copy of that file: all copies of a service sit in
 * one dir, since nats-server reads every include relative to the including file, absolute or not.
 */
function renderNatsConf(world: LocalWorld, name: string, file: string, rw: (s: string) => string): string {
  const text = rw(readFileSync(file, 'utf8'))
    .replace(/^(\s*http_port:\s*)\d+/m, `$1${world.ownPorts(name, 8222)}`)
    .replace(/^(\s*include\s+)(["']?)([^"'\s]+)\2/gm, (_m, lead: string, _q: string, inc: string) => `${lead}${JSON.stringify(`./${basename(renderNatsConf(world, name, resolve(dirname(file), inc), rw))}`)}`);
  const dir = join(world.dir, 'rendered', name);
  mkdirSync(dir, { recursive: true });
  const out = join(dir, basename(file));
  writeFileSync(out, text);
  return out;
}

/** Starts service `name` as a local process. */
export function startService(world: LocalWorld, name: string, svc: RenderedService, extraEnv: Record<string, string> = {}): ChildHandle {
  const rewritePaths = mountAll(world, name, svc);
  const rw = (s: string): string => rewriteAddresses(world, name, rewritePaths(s));
  const args = (svc.command ?? []).map(rw);
  if (String(svc.image).startsWith('nats:')) {
    // The nats image runs nats-server with the command as its arguments; its config file is a bind
    // mount, so its container paths and ports are rewritten into a copy (and so are its includes).
    const i = args.indexOf('-c');
    args[i + 1] = renderNatsConf(world, name, args[i + 1] ?? '', rw);
    const natsEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const [k, v] of Object.entries(svc.environment ?? {})) natsEnv[k] = rw(String(v));
    return spawnChild({ name, command: natsServerBinary(), args, env: natsEnv });
  }
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...imageEnv('cpu') };
  for (const [k, v] of Object.entries(svc.environment ?? {})) env[k] = rw(String(v));
  if (env.ACEREASON_METRICS_PORT) env.ACEREASON_METRICS_PORT = String(world.ownPorts(name, Number(env.ACEREASON_METRICS_PORT)));
  env.ACEREASON_CLI = `${process.execPath} ${join(ROOT, 'packages/cli/dist/main.js')}`;
  return spawnChild({ name, command: 'sh', args: [join(ROOT, 'infra/docker/entrypoint.sh'), ...args], env: { ...env, ...extraEnv } });
}

/** The services of the compose files (in infra/compose) as `docker-compose config` renders them with `.env.example` and `env`. */
export function renderCompose(files: string[], env: Record<string, string>, profile: string): Record<string, RenderedService> {
  const out = execFileSync('docker-compose', ['--project-directory', COMPOSE_DIR, ...files.flatMap((f) => ['-f', join(COMPOSE_DIR, f)]), '--env-file', join(COMPOSE_DIR, '.env.example'), '--profile', profile, 'config'], {
    encoding: 'utf8', timeout: 60_000, cwd: COMPOSE_DIR, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  const doc: unknown = parse(out);
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('rendered compose: no services');
  return doc.services as Record<string, RenderedService>;
}
