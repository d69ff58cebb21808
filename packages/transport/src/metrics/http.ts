/**
 * Prometheus endpoints: `/metrics` over a prom-client registry, and for workers a registry whose
 * gauges read the worker's own heartbeat (so the numbers on `/metrics` are the ones the cluster sees).
 */
import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KV } from '@nats-io/kv';
import { codecs, Keys, type Heartbeat, type Role } from '@acereason/protocol';

export async function serveMetricsRegistry(registry: Registry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body), () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

export interface HeartbeatGauge {
  name: string;
  help: string;
  pick: (h: Heartbeat) => number | undefined;
}

export async function serveHeartbeatMetrics(o: { port: number; workers: KV; runId: string; role: Role; workerId: string; gauges: HeartbeatGauge[] }): Promise<Server> {
  const registry = new Registry();
  const prefix = `acereason_${o.role}_`;
  registry.setDefaultLabels({ run_id: o.runId, role: o.role, worker_id: o.workerId });
  collectDefaultMetrics({ register: registry, prefix });
  const latest = async (): Promise<Heartbeat | undefined> => {
    const e = await o.workers.get(Keys.worker(o.runId, o.role, o.workerId)).catch(() => null);
    return e && e.operation === 'PUT' && e.length > 0 ? codecs.Heartbeat.decode(e.value) : undefined;
  };
  for (const g of o.gauges) {
    new Gauge({
      name: `${prefix}${g.name}`, help: g.help, registers: [registry],
      async collect() {
        const h = await latest().catch(() => undefined);
        const x = h ? g.pick(h) : undefined;
        if (x !== undefined) this.set(x);
      },
    });
  }
  return serveMetricsRegistry(registry, o.port);
}
