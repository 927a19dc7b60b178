// One keep-alive agent per connection, with that connection's CA bundle. Verification is on
// unless explicitly disabled, and disabling it is logged loudly every time an agent is built.
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from './logger.ts';
import { redactUrl } from './url.ts';

export interface AgentOptions {
  url: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
  maxSockets: number;
  logger: Logger;
  service: string;
}

export function createAgent(opts: AgentOptions): http.Agent {
  const { protocol, host } = new URL(redactUrl(opts.url));
  if (protocol === 'http:') {
    opts.logger.warn({ service: opts.service, host }, 'cloud endpoint uses plain HTTP; traffic and credentials are not encrypted');
    return new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }
  if (opts.insecureSkipVerify) {
    opts.logger.warn(
      { service: opts.service, host, insecureSkipVerify: true },
      'TLS CERTIFICATE VERIFICATION IS DISABLED for this connection: anyone on the network path can impersonate the server and read credentials. Configure a CA bundle instead.',
    );
  }
  return new https.Agent({
    keepAlive: true,
    maxSockets: opts.maxSockets,
    rejectUnauthorized: !opts.insecureSkipVerify,
    // The CA bundle parsed once for the agent: given as ca, each new socket built its own context.
    ...(opts.caPem ? { secureContext: createSecureContext({ ca: opts.caPem }) } : {}),
  });
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export function isTlsVerificationCode(code: string): boolean {
  return TLS_CODES.has(code);
}
