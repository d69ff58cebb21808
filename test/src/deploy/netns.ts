/**
 * A private network of Linux network namespaces on one machine: a hub namespace holding a bridge,
 * and one namespace per "host", each joined to the bridge by a veth pair that is created inside
 * the hub (so nothing appears in the caller's namespace). Deleting the namespaces removes
 * everything, including the veths.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsHost {
  /** Short role name, e.g. `nats`. */
  role: string;
  /** Namespace name (unique per network). */
  ns: string;
  /** Address on the bridge, without prefix length. */
  address: string;
  /** The hub-side veth of this host. */
  hubLink: string;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

/** Why namespaces cannot be used here, or undefined when `ip netns add` works. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const probe = `arprobe-${randomBytes(4).toString('hex')}`;
  try {
    ip(['netns', 'add', probe]);
  } catch (err) {
    const e = err as { stderr?: string; message?: string; code?: string };
    if (e.code === 'ENOENT') return '`ip` (iproute2) is not installed';
    return `\`ip netns add\` is not permitted here (needs root / CAP_SYS_ADMIN): ${(e.stderr ?? e.message ?? '').trim()}`;
  }
  try {
    ip(['netns', 'del', probe]);
  } catch {
    // best effort
  }
  return undefined;
}

export class NetnsNetwork {
  readonly id = randomBytes(3).toString('hex');
  readonly hub = `ar-${this.id}-hub`;
  readonly hosts = new Map<string, NetnsHost>();
  private readonly created: string[] = [];

  /** `subnet` is the first three octets of a private /24 used only inside these namespaces. */
  constructor(private readonly subnet = '10.231.7') {}

  setUp(roles: string[]): void {
    this.addNs(this.hub);
    ip(['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.hub, 'link', 'set', 'br0', 'up']);
    roles.forEach((role, i) => {
      const ns = `ar-${this.id}-${role}`;
      const host: NetnsHost = { role, ns, address: `${this.subnet}.${i + 10}`, hubLink: `h${i}` };
      this.addNs(ns);
      ip(['-n', this.hub, 'link', 'add', host.hubLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', this.hub, 'link', 'set', host.hubLink, 'master', 'br0']);
      ip(['-n', this.hub, 'link', 'set', host.hubLink, 'up']);
      ip(['-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      this.hosts.set(role, host);
    });
  }

  host(role: string): NetnsHost {
    const h = this.hosts.get(role);
    if (!h) throw new Error(`no host "${role}" in this network`);
    return h;
  }

  /** Takes a host's link down (its side: the address's route goes, sends fail) or up again. */
  setLink(role: string, up: boolean): void {
    ip(['-n', this.host(role).ns, 'link', 'set', 'eth0', up ? 'up' : 'down']);
  }

  /** Arguments that run a command inside a host's namespace. */
  exec(role: string, command: string, args: string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.host(role).ns, command, ...args] };
  }

  /** Kills whatever still runs in these namespaces, then deletes them (and with them the veths). */
  tearDown(): string[] {
    const problems: string[] = [];
    for (const ns of [...this.created].reverse()) {
      try {
        for (const pid of ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // the namespace may be gone already
      }
      try {
        ip(['netns', 'del', ns]);
      } catch (err) {
        problems.push(`${ns}: ${(err as Error).message}`);
      }
    }
    this.created.length = 0;
    return problems;
  }

  private addNs(ns: string): void {
    ip(['netns', 'add', ns]);
    this.created.push(ns);
  }
}
