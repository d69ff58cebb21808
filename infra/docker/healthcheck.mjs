// Container healthcheck: the service answers on its Prometheus endpoint. Commands that serve no
// metrics (one-shot CLI calls) have no healthcheck to pass, so the check succeeds for them.
import { request } from 'node:http';
import { readFileSync } from 'node:fs';

const port = Number(process.env.ACEREASON_METRICS_PORT ?? 9464);
let serving = true;
try {
  // PID 1 is tini; its child is the service. Only the services open a metrics port.
  const cmdline = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  serving = cmdline.some((a) => a === 'run' || a === 'actor' || a === 'verifier');
} catch {
  serving = true;
}
if (!serving) process.exit(0);
const req = request({ host: '127.0.0.1', port, path: '/metrics', timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
