// A bare HTTPS client for the simulated VCD, used by the VCD behaviour and contract tests. Every
// CloudAPI response it sees is checked against the official spec, so each behaviour test is also a
// contract test, and the operations it exercised are recorded for the coverage count. Request
// bodies are checked against the spec before they are sent, unless marked as wrong on purpose.
import { request } from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import type { RunningSim } from '../../../src/sim/index.ts';
import { assertRequestMatchesSpec, assertResponseMatchesSpec, findOperation } from './spec-contract.ts';

export interface HttpResult {
  status: number;
  headers: Record<string, string | undefined>;
  text: string;
  body: unknown;
}

export interface SendOptions {
  token?: string;
  body?: unknown;
  version?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** Form fields (sent urlencoded, as the OAuth token grant needs). */
  form?: Record<string, string>;
  /** Skip the spec check of the request body (for bodies that are wrong on purpose). */
  invalidBody?: true;
}

/** Spec operations (`METHOD path`) whose responses were checked, across all tests of a run. */
export const exercisedOperations = new Set<string>();

export const PASSWORDS = { provider: 'sim-Provider-pw1', acme: 'sim-Acme-pw1', globex: 'sim-Globex-pw1' } as const;

export class VcdHttp {
  readonly sim: RunningSim;
  readonly version: string;
  constructor(sim: RunningSim, version = '37.2') {
    this.sim = sim;
    this.version = version;
  }

  send(method: string, path: string, opts: SendOptions = {}): Promise<HttpResult> {
    const url = new URL(path, this.sim.vcd.url);
    // The spec is 37.2's: bodies of later versions may carry fields it does not know.
    const checked = Number(opts.version ?? this.version) <= 37.2;
    const headers: Record<string, string> = {};
    if (opts.accept !== undefined) headers['accept'] = opts.accept;
    else headers['accept'] = `application/json;version=${opts.version ?? this.version}`;
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.form) {
      payload = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (opts.body !== undefined) {
      if (checked && url.pathname.startsWith('/cloudapi/') && !opts.invalidBody && findOperation(method, url.pathname)?.bodySchema) {
        assertRequestMatchesSpec(method, url.pathname, opts.body);
      }
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, opts.headers ?? {});
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca: this.sim.caPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text) as unknown;
          const out: HttpResult = {
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string | undefined>,
            text,
            body: text === '' ? undefined : body,
          };
          try {
            if (checked && url.pathname.startsWith('/cloudapi/')) {
              const op = findOperation(method, url.pathname);
              if (op) {
                assertResponseMatchesSpec(method, url.pathname, out.status, out.body);
                exercisedOperations.add(`${op.method} ${op.path}`);
              }
            }
            resolve(out);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async login(who: 'provider' | 'acme' | 'globex'): Promise<string> {
    const user = who === 'provider' ? `administrator@System` : `${who}-admin@${who}`;
    const res = await this.send('POST', who === 'provider' ? '/cloudapi/1.0.0/sessions/provider' : '/cloudapi/1.0.0/sessions', {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${PASSWORDS[who]}`).toString('base64')}` },
    });
    if (res.status !== 200) throw new Error(`login ${user} failed: ${res.status} ${res.text}`);
    return res.headers['x-vmware-vcloud-access-token'] as string;
  }

  /** Polls a task (XML, as govcd reads it) until it ends; returns its parsed Task element. */
  async waitTask(location: string, token: string, pollMs = 5): Promise<TaskView> {
    for (let i = 0; i < 2000; i++) {
      const t = await this.task(location, token);
      if (t.status === 'success' || t.status === 'error' || t.status === 'aborted') return t;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error(`task ${location} did not end`);
  }

  async task(location: string, token: string): Promise<TaskView> {
    const res = await this.send('GET', new URL(location).pathname, { token, accept: 'application/*+xml;version=37.2' });
    if (res.status !== 200) throw new Error(`task GET ${res.status}: ${res.text}`);
    return parseTaskXml(res.text);
  }

  /** Sends a write, expects 202 + Location, and waits for the task. */
  async write(method: string, path: string, token: string, body?: unknown, extra: SendOptions = {}): Promise<TaskView> {
    const res = await this.send(method, path, { ...extra, token, ...(body === undefined ? {} : { body }) });
    if (res.status !== 202) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
    return this.waitTask(res.headers['location'] as string, token);
  }
}

export interface TaskView {
  status: string;
  id: string;
  operation: string;
  owner: { id: string; name: string; href: string };
  error?: { majorErrorCode: string; minorErrorCode: string; message: string };
  details?: string;
  resultContent?: string;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', textNodeName: '#text', parseAttributeValue: false, parseTagValue: false });

export function parseTaskXml(text: string): TaskView {
  const doc = xml.parse(text) as { Task?: Record<string, unknown> };
  const t = doc.Task;
  if (!t) throw new Error(`not a Task document: ${text.slice(0, 200)}`);
  const owner = t['Owner'] as { id: string; name: string; href: string };
  const view: TaskView = { status: t['status'] as string, id: t['id'] as string, operation: t['operation'] as string, owner };
  if (t['Error']) view.error = t['Error'] as TaskView['error'] & object;
  if (typeof t['Details'] === 'string') view.details = t['Details'];
  const rc = (t['Result'] as { ResultContent?: unknown } | undefined)?.ResultContent;
  if (rc !== undefined) view.resultContent = typeof rc === 'string' ? rc : String((rc as { '#text'?: string })['#text'] ?? '');
  return view;
}

export const API = '/cloudapi/1.0.0';

/** Finds an object's id by name through a paged list. */
export async function idByName(http: VcdHttp, token: string, listPath: string, name: string): Promise<string> {
  const res = await http.send('GET', `${listPath}${listPath.includes('?') ? '&' : '?'}filter=${encodeURIComponent(`name==${name}`)}`, { token });
  const values = (res.body as { values?: Array<{ id: string; name: string }> }).values ?? [];
  const hit = values.find((v) => v.name === name);
  if (!hit) throw new Error(`${name} not found at ${listPath}: ${res.text.slice(0, 300)}`);
  return hit.id;
}
