/**
 * Peak resident memory of child processes, sampled from /proc/PID/status (VmHWM, the kernel's
 * high-water mark, so a peak between two samples is not missed while the process lives). On a
 * system without /proc the figures stay null.
 */
import { readFileSync } from 'node:fs';

export class PeakRss {
  private readonly peaks = new Map<string, number>();
  private readonly watched = new Map<string, () => number>();
  private timer: NodeJS.Timeout | undefined;

  /** Samples `pid()` under `label` (a restarted process keeps its label: the peak is over both). */
  watch(label: string, pid: () => number): void {
    this.watched.set(label, pid);
    this.timer ??= setInterval(() => this.sample(), 250);
    this.timer.unref();
  }

  sample(): void {
    for (const [label, pid] of this.watched) {
      const kb = vmHwmKb(pid());
      if (kb !== undefined) this.peaks.set(label, Math.max(this.peaks.get(label) ?? 0, kb));
    }
  }

  /** label -> peak RSS in MB (null when it could not be read). */
  report(): Record<string, number | null> {
    this.sample();
    const out: Record<string, number | null> = {};
    for (const label of this.watched.keys()) {
      const kb = this.peaks.get(label);
      out[label] = kb === undefined ? null : Math.round(kb / 1024);
    }
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function vmHwmKb(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
