// Request metrics per client kind: count and latency by operation and HTTP status, and by
// connection when the client is told which one it serves (the operator labels every client with
// its connection key, so one registry, the one /metrics serves, holds all connections apart).
import { Counter, Histogram, Registry } from 'prom-client';

const LABELS = ['connection', 'operation', 'status'] as const;
type Label = (typeof LABELS)[number];

export class RequestMetrics {
  readonly registry: Registry;
  readonly #connection: string | undefined;
  readonly #count: Counter<Label>;
  readonly #latency: Histogram<Label>;

  /**
   * `prefix` like 'vcd_client_'. Several clients may share one registry and prefix; `connection`
   * labels this client's series (absent: the series carry only operation and status).
   */
  constructor(prefix: string, registry?: Registry, connection?: string) {
    this.registry = registry ?? new Registry();
    this.#connection = connection;
    this.#count =
      existing<Counter<Label>>(this.registry, `${prefix}requests_total`) ??
      new Counter({
        name: `${prefix}requests_total`,
        help: 'HTTP requests sent, by connection, operation and response status (network_error when none came back).',
        labelNames: LABELS,
        registers: [this.registry],
      });
    this.#latency =
      existing<Histogram<Label>>(this.registry, `${prefix}request_duration_seconds`) ??
      new Histogram({
        name: `${prefix}request_duration_seconds`,
        help: 'HTTP request latency in seconds, by connection, operation and response status.',
        labelNames: LABELS,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [this.registry],
      });
  }

  observe(operation: string, status: number | 'network_error', seconds: number): void {
    const labels = this.#connection === undefined ? { operation, status: String(status) } : { connection: this.#connection, operation, status: String(status) };
    this.#count.inc(labels);
    this.#latency.observe(labels, seconds);
  }
}

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}
