import { existsSync } from 'node:fs';
import type { SandboxKind, SandboxOptions } from './kinds.js';
import { DEFAULT_HOST_UID_BASE, DEFAULT_PYTHON } from './kinds.js';

export interface SandboxCommand {
  file: string;
  args: string[];
  uid?: number;
  gid?: number;
  cwd: string;
  env: Record<string, string>;
  /** A host directory to create for the run (owned by the slot's uid) and remove afterwards. */
  hostWorkDir?: boolean;
}

const SANDBOX_UID = 65534;
const RUNTIME_DIRS = ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/sbin'];

function identity(slot: number, o: SandboxOptions): { uid?: number; gid?: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (o.hostUidBase ?? DEFAULT_HOST_UID_BASE) + slot;
  return { uid: id, gid: id };
}

/** Everything bwrap needs for one harness: empty root, read-only runtime, nothing shared. */
export function bwrapCommand(slot: number, harnessSource: string, o: SandboxOptions): SandboxCommand {
  const args: string[] = [];
  for (const d of RUNTIME_DIRS) if (existsSync(d)) args.push('--ro-bind', d, d);
  args.push(
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--new-session',
    '--die-with-parent',
    '--as-pid-1',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--hostname', 'sandbox',
    '--proc', '/proc',
    '--dev', '/dev',
    '--remount-ro', '/dev',
    '--size', String(o.tmpBytes ?? 64 * 1024 * 1024),
    '--tmpfs', '/tmp',
    '--remount-ro', '/',
    '--chdir', '/tmp',
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'TMPDIR', '/tmp',
    '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'ACEREASON_WORK', '/tmp',
    '--setenv', 'ACEREASON_REQUIRE_NODUMP', '1',
    '--',
    o.python ?? DEFAULT_PYTHON, '-I', '-c', harnessSource,
  );
  return { file: 'bwrap', args, ...identity(slot, o), cwd: '/', env: {} };
}

/**
 * The fallback: util-linux `unshare` gives new user, pid, net, mount, ipc and uts namespaces and
 * an unprivileged identity, but the host's files stay visible (read-only by permissions only).
 */
export function unshareCommand(slot: number, harnessSource: string, o: SandboxOptions, workDir: string): SandboxCommand {
  const args = [
    '--pdeathsig', 'KILL', '--',
    'unshare', '--user', `--map-user=${SANDBOX_UID}`, `--map-group=${SANDBOX_UID}`,
    '--pid', '--fork', '--kill-child', '--mount-proc', '--net', '--ipc', '--uts', '--',
    o.python ?? DEFAULT_PYTHON, '-I', '-c', harnessSource,
  ];
  return {
    file: 'setpriv',
    args,
    ...identity(slot, o),
    cwd: workDir,
    env: { PATH: '/usr/bin:/bin', HOME: workDir, TMPDIR: workDir, LANG: 'C.UTF-8', ACEREASON_WORK: workDir, ACEREASON_REQUIRE_NODUMP: '1' },
    hostWorkDir: true,
  };
}

/** No isolation at all: only limits and an unprivileged uid (when root). For trusted code. */
export function unsafeCommand(slot: number, harnessSource: string, o: SandboxOptions, workDir: string): SandboxCommand {
  return {
    file: o.python ?? DEFAULT_PYTHON,
    args: ['-I', '-c', harnessSource],
    ...identity(slot, o),
    cwd: workDir,
    env: { PATH: '/usr/bin:/bin', HOME: workDir, TMPDIR: workDir, LANG: 'C.UTF-8', ACEREASON_WORK: workDir },
    hostWorkDir: true,
  };
}

export function sandboxCommand(kind: SandboxKind, slot: number, harnessSource: string, o: SandboxOptions, workDir: string): SandboxCommand {
  switch (kind) {
    case 'bwrap':
      return bwrapCommand(slot, harnessSource, o);
    case 'unshare':
      return unshareCommand(slot, harnessSource, o, workDir);
    case 'none-unsafe':
      return unsafeCommand(slot, harnessSource, o, workDir);
  }
}
