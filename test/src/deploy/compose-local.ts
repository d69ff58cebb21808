/**
 * Runs a service of a rendered compose file (`docker-compose config`) as a local process: the
 * image's entrypoint script (or, for the nats image, nats-server) with the service's command,
 * environment and mounted files. What a container engine would provide is replaced, and only that:
 *
 * - each mount becomes a path under the service's own root dir (`<root>/<service>/<container path>`,
 *   a symlink to the named volume's dir or to the bind-mounted host path), and every argument,
 *   environment value and bind-mounted config file that names a container path gets that prefix;
 * - compose host names (nats, learner, 0.0.0.0) become 127.0.0.1 and the fixed container ports
 *   free local ports (several services listen on 9464 in their own containers);
 * - the image's ENV lines (read from the Dockerfile's target stage) and its entrypoint come from
 *   the repository.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { spawnChild, natsServerBinary, type ChildHandle } from '@acereason/testkit';
import { ROOT, isRecord, read } from './repo.js';

export interface RenderedService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  image?: string;
}

export interface LocalWorld {
  /** Per-service root dirs and named volumes live here. */
  dir: string;
  /** Container host:port -> local host:port (`nats:4222` -> `127.0.0.1:41234`). */
  addresses: Map<string, string>;
  /** Per-service port for ports every container has to itself (the metrics port 9464). */
  ownPorts: (service: string, port: number) => number;
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
  let out = s;
  for (const [from, to] of world.addresses) out = out.split(from).join(to);
  return out.replace(/\b0\.0\.0\.0:(\d+)\b/g, (_m, p: string) => world.addresses.get(`0.0.0.0:${p}`) ?? `127.0.0.1:${world.ownPorts(name, Number(p))}`);
}

/** Starts service `name` as a local process. */
export function startService(world: LocalWorld, name: string, svc: RenderedService, extraEnv: Record<string, string> = {}): ChildHandle {
  const rewritePaths = mountAll(world, name, svc);
  const rw = (s: string): string => rewriteAddresses(world, name, rewritePaths(s));
  const args = (svc.command ?? []).map(rw);
  if (String(svc.image).startsWith('nats:')) {
    // The nats image runs nats-server with the command as its arguments; its config file is a bind
    // mount, so its container paths and ports are rewritten into a copy.
    const i = args.indexOf('-c');
    const conf = args[i + 1] ?? '';
    const text = rw(readFileSync(conf, 'utf8'))
      .replace(/^(\s*listen:\s*)\S+/m, `$1${world.addresses.get('nats:4222') ?? ''}`)
      .replace(/^(\s*http_port:\s*)\d+/m, `$1${world.ownPorts(name, 8222)}`);
    // Next to where the file is mounted: nats-server resolves includes relative to the config's dir.
    const local = join(dirname(conf), 'nats.rendered.conf');
    writeFileSync(local, text);
    args[i + 1] = local;
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

/** The services of a rendered compose file. */
export function renderedServices(doc: unknown): Record<string, RenderedService> {
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('rendered compose: no services');
  return doc.services as Record<string, RenderedService>;
}
