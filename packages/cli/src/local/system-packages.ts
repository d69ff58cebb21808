/**
 * The system tools acereason needs outside npm (nats-server, bubblewrap, python3, g++), and how to
 * install them on this platform: one place for the install lines `acereason doctor` prints and
 * for `acereason doctor --fix`, which runs them itself on Debian/Ubuntu (apt-get, through sudo
 * when not root). Elsewhere it only prints the line for the platform's package manager.
 */
import { spawnSync } from 'node:child_process';

export type SystemTool = 'nats-server' | 'bubblewrap' | 'python3' | 'g++';

export type PackageManager = 'apt' | 'dnf' | 'brew' | 'none';

export interface Platform {
  os: NodeJS.Platform;
  manager: PackageManager;
  root: boolean;
  sudo: boolean;
}

/** Package names per manager; `undefined` = not packaged there (the text says what to do). */
const PACKAGES: Record<SystemTool, Record<Exclude<PackageManager, 'none'>, string | undefined>> = {
  'nats-server': { apt: 'nats-server', dnf: 'nats-server', brew: 'nats-server' },
  bubblewrap: { apt: 'bubblewrap', dnf: 'bubblewrap', brew: undefined },
  python3: { apt: 'python3', dnf: 'python3', brew: 'python' },
  'g++': { apt: 'g++', dnf: 'gcc-c++', brew: 'gcc' },
};

const NO_PACKAGE: Record<SystemTool, string> = {
  'nats-server': 'download nats-server 2.9+ from https://github.com/nats-io/nats-server/releases and put it on PATH (or set ACEREASON_NATS_SERVER to its path)',
  bubblewrap: 'the code sandbox needs Linux user namespaces (bubblewrap); run code verifiers on a Linux host',
  python3: 'install Python 3 so that /usr/bin/python3 exists',
  'g++': 'install a C++ compiler as g++ (only C++ submissions need it)',
};

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** This machine's package manager and privileges. */
export function detectPlatform(): Platform {
  const os = process.platform;
  const manager: PackageManager = os === 'darwin' ? (has('brew') ? 'brew' : 'none') : os === 'linux' ? (has('apt-get') ? 'apt' : has('dnf') ? 'dnf' : 'none') : 'none';
  return { os, manager, root: process.getuid?.() === 0, sudo: has('sudo') };
}

export interface InstallPlan {
  /** The line a user types (shown as the fix). */
  line: string;
  /** What `doctor --fix` runs, when it may run it itself (apt-get only); each entry is one argv. */
  commands?: string[][];
  /** Tools that have no package on this platform, with what to do instead. */
  manual: string[];
}

/** How to install `tools` on `p`: the line to show, and the commands `--fix` runs on apt systems. */
export function installPlan(tools: readonly SystemTool[], p: Platform): InstallPlan {
  const manual: string[] = [];
  const pkgs: string[] = [];
  for (const t of tools) {
    const pkg = p.manager === 'none' ? undefined : PACKAGES[t][p.manager];
    if (pkg === undefined) manual.push(`${t}: ${NO_PACKAGE[t]}`);
    else pkgs.push(pkg);
  }
  if (pkgs.length === 0) return { line: manual.join('; '), manual };
  const sudo = p.root || p.manager === 'brew' ? '' : 'sudo ';
  const base = p.manager === 'apt' ? `apt-get install -y ${pkgs.join(' ')}` : p.manager === 'dnf' ? `dnf install -y ${pkgs.join(' ')}` : `brew install ${pkgs.join(' ')}`;
  const line = `${sudo}${base}`;
  if (p.manager !== 'apt' || (!p.root && !p.sudo)) return { line, manual };
  const prefix = p.root ? [] : ['sudo'];
  return {
    line,
    manual,
    commands: [
      [...prefix, 'apt-get', 'update', '-qq'],
      [...prefix, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs],
    ],
  };
}
