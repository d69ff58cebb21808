/**
 * Where step metrics go: metrics.jsonl in the run folder (one JSON object per line, appended and
 * flushed per step) and Prometheus gauges (served on /metrics when a port is configured).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { serveMetricsRegistry } from '@acereason/transport';
import { dirname } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StepMetrics } from './step-metrics.js';

export class MetricsSink {
  readonly registry = new Registry();
  private readonly gauges = new Map<string, Gauge>();
  private server: Server | undefined;
  private readonly listeners = new Set<(m: StepMetrics) => void>();
  last: StepMetrics | undefined;
  /** gRPC calls refused by the role policy. */
  readonly grpcDenied = new Counter({ name: 'acereason_grpc_denied_total', help: 'gRPC calls refused by the role policy, by role and method', labelNames: ['role', 'method'] as const, registers: [] });

  constructor(private readonly jsonlPath: string, runId: string) {
    mkdirSync(dirname(jsonlPath), { recursive: true });
    this.registry.setDefaultLabels({ run_id: runId, role: 'learner' });
    collectDefaultMetrics({ register: this.registry, prefix: 'acereason_learner_' });
    this.registry.registerMetric(this.grpcDenied);
  }

  record(m: StepMetrics): void {
    appendFileSync(this.jsonlPath, JSON.stringify(m) + '\n');
    this.last = m;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'number') continue;
      let g = this.gauges.get(k);
      if (!g) {
        g = new Gauge({ name: `acereason_${k}`, help: `last step's ${k.replace(/_/g, ' ')}`, registers: [this.registry] });
        this.gauges.set(k, g);
      }
      g.set(v);
    }
    for (const l of this.listeners) l(m);
  }

  subscribe(l: (m: StepMetrics) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async serve(port: number, host = '0.0.0.0'): Promise<number> {
    this.server = await serveMetricsRegistry(this.registry, port, host);
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
