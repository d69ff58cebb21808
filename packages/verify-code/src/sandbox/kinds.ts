/** How untrusted programs are isolated. `none-unsafe` runs them on the host and must be asked for. */
export type SandboxKind = 'bwrap' | 'unshare' | 'none-unsafe';
export type SandboxChoice = 'auto' | SandboxKind;

export interface SandboxOptions {
  /** Interpreter used inside the sandbox (Debian's, not a version-manager shim). */
  python?: string;
  /**
   * When running as root, sandbox slot i runs as host uid/gid `hostUidBase + i`, an unprivileged
   * identity of its own, so per-user limits never count the host's root processes.
   */
  hostUidBase?: number;
  /** Size of the private writable /tmp (bytes, bwrap only). */
  tmpBytes?: number;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_HOST_UID_BASE = 62000;
export const INSTALL_HINT = 'apt-get install -y bubblewrap';
