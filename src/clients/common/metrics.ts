// Request metrics per client kind: count and latency by operation and HTTP status.
import { Counter, Histogram, Registry } from 'prom-client';

const LABELS = ['operation', 'status'] as const;
type Label = (typeof LABELS)[number];

export class RequestMetrics {
  readonly registry: Registry;
  readonly #count: Counter<Label>;
  readonly #latency: Histogram<Label>;

  /** `prefix` like 'vcd_client_'. Several clients may share one registry and prefix. */
  constructor(prefix: string, registry?: Registry) {
    this.registry = registry ?? new Registry();
    this.#count = existing<Counter<Label>>(this.registry, `${prefix}requests_total`) ??
      new Counter({
        name: `${prefix}requests_total`,
        help: 'HTTP requests sent, by operation and response status (network_error when none came back).',
        labelNames: LABELS,
        registers: [this.registry],
      });
    this.#latency = existing<Histogram<Label>>(this.registry, `${prefix}request_duration_seconds`) ??
      new Histogram({
        name: `${prefix}request_duration_seconds`,
        help: 'HTTP request latency in seconds, by operation and response status.',
        labelNames: LABELS,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [this.registry],
      });
  }

  observe(operation: string, status: number | 'network_error', seconds: number): void {
    const labels = { operation, status: String(status) };
    this.#count.inc(labels);
    this.#latency.observe(labels, seconds);
  }
}

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}
