// API version negotiation. The client is written against the 37.2 spec; it speaks the highest
// version both it and the server know, and operations that need more fail fast and typed.
import { XMLParser } from 'fast-xml-parser';
import { UnsupportedApiVersionError } from './errors.ts';

/** Versions this client understands, oldest first. 36.0 is VCD 10.3; 37.2 is the spec we follow. */
export const CLIENT_API_VERSIONS = ['36.0', '36.1', '36.2', '36.3', '37.0', '37.1', '37.2'] as const;

/** What needs more than the oldest version we speak. */
export const FEATURES = {
  ipSpaces: { feature: 'IP Spaces', version: '37.1' },
  firewallAppliedTo: { feature: 'firewall rule appliedTo (interface scope)', version: '37.1' },
  allocationValue: { feature: 'allocation of a specific IP or prefix (value)', version: '37.2' },
  staticRoutes: { feature: 'edge gateway static routes', version: '37.0' },
  segmentUplinks: { feature: 'segment-backed external networks as edge gateway uplinks', version: '37.1' },
} as const satisfies Record<string, { feature: string; version: string }>;

export type Feature = keyof typeof FEATURES;

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function atLeast(version: string, required: string): boolean {
  return compareVersions(version, required) >= 0;
}

/** Throws UnsupportedApiVersionError when `version` is below what `feature` needs. */
export function requireFeature(version: string, feature: Feature, operation: string): void {
  const need = FEATURES[feature];
  if (!atLeast(version, need.version)) throw new UnsupportedApiVersionError(operation, need.feature, need.version, version);
}

export interface ServerVersion {
  version: string;
  deprecated: boolean;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, parseTagValue: false, parseAttributeValue: false });

/** Parses GET /api/versions in its XML (SupportedVersions) or JSON (versionInfo) form. */
export function parseSupportedVersions(body: unknown): ServerVersion[] {
  let root: unknown = body;
  if (typeof body === 'string') root = (xml.parse(body) as Record<string, unknown>)['SupportedVersions'];
  const obj = (root ?? {}) as Record<string, unknown>;
  const infos = asArray(obj['VersionInfo'] ?? obj['versionInfo']);
  const out: ServerVersion[] = [];
  for (const info of infos) {
    const i = info as Record<string, unknown>;
    const version = i['Version'] ?? i['version'];
    if (typeof version !== 'string' && typeof version !== 'number') continue;
    const deprecated = i['deprecated'] === true || i['deprecated'] === 'true';
    out.push({ version: String(version).trim(), deprecated });
  }
  return out;
}

export interface Negotiated {
  apiVersion: string;
  /** Highest version the server offers, known to us or not. */
  serverHighest: string | undefined;
}

/**
 * Picks the highest version in both lists, or the pin when given (which the server must offer).
 * Throws UnsupportedApiVersionError naming the oldest version we need when nothing matches.
 */
export function negotiateVersion(server: readonly ServerVersion[], pin?: string): Negotiated {
  const offered = server.map((s) => s.version).sort(compareVersions);
  const serverHighest = offered.at(-1);
  if (pin !== undefined) {
    if (!offered.includes(pin)) {
      throw new UnsupportedApiVersionError('connect', `the pinned API version ${pin}`, pin, serverHighest ?? 'none');
    }
    return { apiVersion: pin, serverHighest };
  }
  const common = CLIENT_API_VERSIONS.filter((v) => offered.includes(v));
  const apiVersion = common.at(-1);
  if (apiVersion === undefined) {
    throw new UnsupportedApiVersionError('connect', 'this operator', CLIENT_API_VERSIONS[0], serverHighest ?? 'none');
  }
  return { apiVersion, serverHighest };
}

const PRODUCT: Record<string, string> = {
  '36.0': '10.3.0',
  '36.1': '10.3.1',
  '36.2': '10.3.2',
  '36.3': '10.3.3',
  '37.0': '10.4.0',
  '37.1': '10.4.1',
  '37.2': '10.4.2',
  '38.0': '10.5.0',
  '38.1': '10.5.1',
  '39.0': '10.6.0',
};

/**
 * The VCD product release implied by the highest API version the server offers (each release
 * adds its API version), e.g. '10.4.2' for 37.2. Undefined for versions we have no mapping for.
 */
export function productVersionFor(serverHighest: string | undefined): string | undefined {
  return serverHighest === undefined ? undefined : PRODUCT[serverHighest];
}

function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
