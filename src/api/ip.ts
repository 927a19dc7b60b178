// IP and CIDR parsing with the same rules as the Kubernetes CEL `ip()`/`cidr()` libraries (Go's
// net/netip, minus zones and IPv4-mapped IPv6), so an address the apiserver admits is one the
// operator can parse, and the TypeScript twin of every CEL rule agrees with the apiserver.

export type IPFamily = 4 | 6;

export interface IPAddress {
  family: IPFamily;
  /** The address as an unsigned integer of 32 or 128 bits. */
  value: bigint;
}

export interface CIDRBlock {
  /** The address as written, host bits included (`10.0.0.1/24` keeps `.1`). */
  ip: IPAddress;
  prefixLength: number;
}

const BITS: Record<IPFamily, number> = { 4: 32, 6: 128 };

export function bitLength(family: IPFamily): number {
  return BITS[family];
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    // Decimal only, no leading zeros (they read as octal in some parsers and Go rejects them).
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIPv6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined; // zones are not allowed
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    // An embedded dotted IPv4 tail stands for the last two groups.
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): string[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : undefined;
  };
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const total = left.length + right.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const groups = [...left, ...Array<string>(8 - total).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IPv4 or IPv6 address; undefined when Kubernetes' `isIP()` would say false. */
export function parseIP(s: string): IPAddress | undefined {
  if (s.includes(':')) {
    const value = parseIPv6(s);
    if (value === undefined) return undefined;
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) is ambiguous between families; Kubernetes rejects it.
    if (value >> 32n === 0xffffn) return undefined;
    return { family: 6, value };
  }
  const value = parseIPv4(s);
  return value === undefined ? undefined : { family: 4, value };
}

/** Parses `address/length`; undefined when Kubernetes' `isCIDR()` would say false. */
export function parseCIDR(s: string): CIDRBlock | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(bits)) return undefined;
  const prefixLength = Number(bits);
  if (prefixLength > BITS[ip.family]) return undefined;
  return { ip, prefixLength };
}

export const isIP = (s: string): boolean => parseIP(s) !== undefined;
export const isCIDR = (s: string): boolean => parseCIDR(s) !== undefined;

function hostMask(family: IPFamily, prefixLength: number): bigint {
  return (1n << BigInt(BITS[family] - prefixLength)) - 1n;
}

/** The block with its host bits cleared, like CEL's `cidr(s).masked()`. */
export function masked(c: CIDRBlock): CIDRBlock {
  return { ip: { family: c.ip.family, value: c.ip.value & ~hostMask(c.ip.family, c.prefixLength) }, prefixLength: c.prefixLength };
}

/** The first and last address of a block. */
export function cidrRange(c: CIDRBlock): { first: IPAddress; last: IPAddress } {
  const first = masked(c).ip;
  return { first, last: { family: first.family, value: first.value | hostMask(first.family, c.prefixLength) } };
}

/** Like CEL's `cidr(c).containsIP(ip)`: false across families. */
export function cidrContainsIP(c: CIDRBlock, ip: IPAddress): boolean {
  if (c.ip.family !== ip.family) return false;
  const { first, last } = cidrRange(c);
  return ip.value >= first.value && ip.value <= last.value;
}

/** Like CEL's `cidr(outer).containsCIDR(inner)`. */
export function cidrContainsCIDR(outer: CIDRBlock, inner: CIDRBlock): boolean {
  return cidrContainsIP(outer, inner.ip) && outer.prefixLength <= inner.prefixLength;
}

/** Orders addresses of one family; addresses of different families order IPv4 first. */
export function compareIP(a: IPAddress, b: IPAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Canonical text form: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIP(ip: IPAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function formatCIDR(c: CIDRBlock): string {
  return `${formatIP(c.ip)}/${c.prefixLength}`;
}
