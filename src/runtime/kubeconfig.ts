// How the runtime reaches the apiserver: the server URL and what to add to each request (CA,
// client certificate, bearer token). The common cases (in-cluster service account; a kubeconfig
// with a token, token file, client certificate or basic auth) are read here directly, because
// @kubernetes/client-node's KubeConfig pulls in its whole generated API on import (about 90 MB of
// resident memory, more than the operator's own working set). Anything else (exec plugins, auth
// providers, proxies, several kubeconfig files) falls back to client-node, loaded only then.
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { parse } from 'yaml';

/** Request options with the TLS context https passes on to tls.connect (its types leave it out). */
export type KubeRequestOptions = https.RequestOptions & { secureContext?: SecureContext };

/** The part of client-node's KubeConfig the runtime uses; client-node's own class satisfies it. */
export interface KubeAuth {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  applyToHTTPSOptions(opts: KubeRequestOptions): Promise<void>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// Bound service account tokens rotate (hourly by default, valid longer); re-read well within that.
const TOKEN_REREAD_MS = 60_000;

interface Material {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure?: boolean;
  token?: string;
  tokenFile?: string;
  basic?: { username: string; password: string };
}

/** Credentials from a Material, with a token file re-read now and then. */
export class StaticKubeAuth implements KubeAuth {
  readonly #m: Material;
  readonly #now: () => number;
  #fileToken: { value: string; readAt: number } | undefined;
  #tls: SecureContext | null | undefined;

  constructor(m: Material, now: () => number = Date.now) {
    this.#m = m;
    this.#now = now;
  }

  getCurrentCluster(): { server: string } {
    return { server: this.#m.server };
  }

  applyToHTTPSOptions(opts: KubeRequestOptions): Promise<void> {
    const m = this.#m;
    if (m.ca) opts.ca = m.ca;
    if (m.cert) opts.cert = m.cert;
    if (m.key) opts.key = m.key;
    const context = this.#secureContext();
    if (context) opts.secureContext = context;
    if (m.insecure) opts.rejectUnauthorized = false;
    const headers = (opts.headers ??= {}) as Record<string, string | string[] | number>;
    const token = this.#token();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (m.basic) headers.authorization = `Basic ${Buffer.from(`${m.basic.username}:${m.basic.password}`).toString('base64')}`;
    return Promise.resolve();
  }

  /**
   * One TLS context for every connection: given only ca, cert and key, each new socket parses them
   * into a context of its own (some 50 in the first second of a start). Null when they do not
   * parse; the connection then fails on them as it would have.
   */
  #secureContext(): SecureContext | undefined {
    const m = this.#m;
    if (this.#tls === undefined && (m.ca || m.cert || m.key)) {
      try {
        this.#tls = createSecureContext({ ...(m.ca ? { ca: m.ca } : {}), ...(m.cert ? { cert: m.cert } : {}), ...(m.key ? { key: m.key } : {}) });
      } catch {
        this.#tls = null;
      }
    }
    return this.#tls ?? undefined;
  }

  #token(): string | undefined {
    if (this.#m.token) return this.#m.token;
    if (!this.#m.tokenFile) return undefined;
    const now = this.#now();
    if (!this.#fileToken || now - this.#fileToken.readAt > TOKEN_REREAD_MS) {
      try {
        this.#fileToken = { value: readFileSync(this.#m.tokenFile, 'utf8').trim(), readAt: now };
      } catch (err) {
        // Keep the last token while the file is being rotated; fail only when there never was one.
        if (!this.#fileToken) throw err;
      }
    }
    return this.#fileToken.value;
  }
}

type Named<T> = { name?: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<Named<{ context?: { cluster?: string; user?: string } }>>;
  clusters?: Array<
    Named<{
      cluster?: {
        server?: string;
        'certificate-authority'?: string;
        'certificate-authority-data'?: string;
        'insecure-skip-tls-verify'?: boolean;
        'proxy-url'?: string;
        'tls-server-name'?: string;
      };
    }>
  >;
  users?: Array<Named<{ user?: Record<string, unknown> }>>;
}

const SIMPLE_USER_KEYS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'username',
  'password',
]);

/**
 * The kubeconfig's current context as Material, or undefined when it needs what only client-node
 * implements (exec, auth-provider, impersonation, proxy-url, tls-server-name...).
 */
export function materialFromKubeconfig(doc: KubeconfigFile, baseDir: string): Material | undefined {
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig: current context ${ctxName ?? '(none)'} not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig: cluster ${ctx.cluster ?? '(none)'} has no server`);
  if (cluster['proxy-url'] || cluster['tls-server-name']) return undefined;
  const user = (ctx.user ? doc.users?.find((u) => u.name === ctx.user)?.user : undefined) ?? {};
  if (Object.keys(user).some((k) => !SIMPLE_USER_KEYS.has(k))) return undefined;
  const file = (p: unknown): Buffer | undefined => (typeof p === 'string' ? readFileSync(isAbsolute(p) ? p : join(baseDir, p)) : undefined);
  const data = (d: unknown): Buffer | undefined => (typeof d === 'string' ? Buffer.from(d, 'base64') : undefined);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const m: Material = { server: cluster.server };
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  if (ca) m.ca = ca;
  if (cluster['insecure-skip-tls-verify']) m.insecure = true;
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  if (cert) m.cert = cert;
  if (key) m.key = key;
  const token = str(user.token);
  if (token) m.token = token;
  const tokenFile = str(user.tokenFile);
  if (tokenFile) m.tokenFile = isAbsolute(tokenFile) ? tokenFile : join(baseDir, tokenFile);
  const [username, password] = [str(user.username), str(user.password)];
  if (username && password) m.basic = { username, password };
  return m;
}

/** In a pod: the service account's token and CA, and the apiserver from the environment. */
function inClusterMaterial(env: NodeJS.ProcessEnv): Material | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, ca: readFileSync(join(SA_DIR, 'ca.crt')), tokenFile: join(SA_DIR, 'token') };
}

/**
 * Loads the kubeconfig like kubectl does: the given file (or $KUBECONFIG), else the in-cluster
 * service account, else ~/.kube/config.
 */
export async function loadKubeAuth(path?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeAuth> {
  const explicit = path ?? env.KUBECONFIG;
  if (!explicit) {
    const inCluster = inClusterMaterial(env);
    if (inCluster) return new StaticKubeAuth(inCluster);
  }
  const file = explicit ?? join(homedir(), '.kube', 'config');
  if (!file.includes(':')) {
    const material = materialFromKubeconfig(parse(readFileSync(file, 'utf8')) as KubeconfigFile, dirname(file));
    if (material) return new StaticKubeAuth(material);
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
