// IPv4 arithmetic for ranges, prefixes and scopes. The simulator's IP Spaces are IPv4; an IPv6
// address is rejected with a clear message rather than mis-handled.

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  network: number;
  prefixLength: number;
}

export function parseCidr(s: string): Cidr | undefined {
  const [addr, len] = s.trim().split('/');
  if (addr === undefined || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const ip = parseIPv4(addr);
  const prefixLength = Number(len);
  if (ip === undefined || prefixLength > 32) return undefined;
  return { network: networkOf(ip, prefixLength), prefixLength };
}

export function networkOf(ip: number, prefixLength: number): number {
  if (prefixLength === 0) return 0;
  const size = 2 ** (32 - prefixLength);
  return Math.floor(ip / size) * size;
}

export function cidrSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.network)}/${c.prefixLength}`;
}

export function cidrContains(outer: Cidr, ip: number, lastIp: number = ip): boolean {
  const end = outer.network + cidrSize(outer.prefixLength) - 1;
  return ip >= outer.network && lastIp <= end;
}

export function isIPv6(s: string): boolean {
  return s.includes(':');
}
