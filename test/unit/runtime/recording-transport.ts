// A KubeTransport that records requests and answers from a handler, for unit tests of writers.
import type { KubeTransport, RequestOptions } from '../../../src/runtime/kube-http.ts';

export interface Recorded {
  method: string;
  path: string;
  body: unknown;
  patch?: string;
}

export class RecordingTransport implements KubeTransport {
  readonly requests: Recorded[] = [];
  respond: (r: Recorded) => unknown = (r) => r.body;

  request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const rec: Recorded = { method, path, body: opts.body, patch: opts.patch };
    this.requests.push(rec);
    try {
      return Promise.resolve(this.respond(rec) as T);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  watch(): Promise<void> {
    return Promise.reject(new Error('not supported'));
  }
}
