// Container healthcheck: the service answers on its Prometheus endpoint (the entrypoint starts
// every service with --metrics-port $ACEREASON_METRICS_PORT).
import { request } from 'node:http';

const port = Number(process.env.ACEREASON_METRICS_PORT ?? 9464);
const req = request({ host: '127.0.0.1', port, path: '/metrics', timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
