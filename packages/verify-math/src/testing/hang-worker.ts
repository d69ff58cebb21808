import { serveVerifier } from '../worker-protocol.js';

// A verifier worker that really hangs (a busy loop, no timers) when the gold answer is HANG, and
// really allocates without bound when it is OOM: the pool must terminate or survive it.
await serveVerifier({
  beforeJob: (job) => {
    if (job.gold === 'HANG') for (;;);
    if (job.gold === 'OOM') {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1_000_000).fill(1));
    }
  },
});
