/** Resource limits in the units the harness applies them. */
export interface HarnessLimits {
  cpuS: number;
  wallS: number;
  memBytes: number;
  nproc: number;
  nofile: number;
  fsizeBytes: number;
  stackBytes: number;
  outBytes: number;
}

export interface LimitOptions {
  timeLimitS?: number;
  memoryMb?: number;
  /** Processes and threads per sandbox, the harness included (default 16). */
  maxProcesses?: number;
  /** Bytes of stdout (or of the JSON return value) per test (default 8 MiB). */
  maxOutputBytes?: number;
}

const MB = 1024 * 1024;
export const DEFAULT_TIME_LIMIT_S = 4;
export const DEFAULT_MEMORY_MB = 1024;
export const COMPILE_TIME_LIMIT_S = 10;

export function testLimits(o: LimitOptions): HarnessLimits {
  const cpuS = o.timeLimitS ?? DEFAULT_TIME_LIMIT_S;
  const memBytes = (o.memoryMb ?? DEFAULT_MEMORY_MB) * MB;
  return {
    cpuS,
    // Wall time covers waiting (sleep, I/O) and a loaded machine; CPU time is the judge's limit.
    wallS: cpuS * 2 + 1,
    memBytes,
    nproc: o.maxProcesses ?? 16,
    nofile: 64,
    fsizeBytes: 16 * MB,
    stackBytes: Math.min(memBytes, 256 * MB),
    outBytes: o.maxOutputBytes ?? 8 * MB,
  };
}

export function compileLimits(o: LimitOptions): HarnessLimits {
  const memBytes = Math.max(2048, o.memoryMb ?? DEFAULT_MEMORY_MB) * MB;
  return {
    cpuS: COMPILE_TIME_LIMIT_S,
    // Generous wall time: a compiler starved of CPU on a busy host is not the program's fault.
    wallS: COMPILE_TIME_LIMIT_S * 6,
    memBytes,
    nproc: 16,
    nofile: 64,
    fsizeBytes: 64 * MB,
    stackBytes: 64 * MB,
    outBytes: 16 * MB,
  };
}
