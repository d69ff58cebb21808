/** Small measuring helpers of the weight-sync benchmark: process CPU time, liveness, rounding. */
import { readFileSync } from 'node:fs';
import { summarize, toPlaces } from '@acereason/protocol';

/** CPU time (ms) a process has used, from /proc; undefined where there is none. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

export const stat = (xs: number[]): { median: number; p99: number } => {
  const s = summarize(xs);
  return { median: round3(s.median), p99: round3(s.p99) };
};
export const round3 = (x: number): number => toPlaces(x, 3);

export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
