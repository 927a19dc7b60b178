// Structured JSON logs (pino) with secrets redacted by path, whatever a caller passes in.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const secretKeys = [
  'authorization',
  'Authorization',
  'password',
  'token',
  'apiToken',
  'refreshToken',
  'accessToken',
  'bearerToken',
  'secret',
  'clientSecret',
  'privateKey',
  'stringData',
];

/** Paths censored in every log line: secret-looking keys up to three levels deep, and Secret data. */
export const defaultRedactPaths: string[] = [
  ...secretKeys,
  ...secretKeys.map((k) => `*.${k}`),
  ...secretKeys.map((k) => `*.*.${k}`),
  // A Secret's data, however the object is nested in the log call.
  'data',
  '*.data',
  'headers["x-vcloud-authorization"]',
  '*.headers["x-vcloud-authorization"]',
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Extra paths to censor, in pino's redact syntax. */
  redact?: string[];
  /** Where lines go; stdout by default. Tests pass a stream to capture output. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. { component: 'vcd-operator' }. */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: opts.base ?? {},
      redact: { paths: [...defaultRedactPaths, ...(opts.redact ?? [])], censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination(1),
  );
}
