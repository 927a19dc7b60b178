// Where a heap's memory is, by object type: self size and count per constructor name (objects),
// or per node type ("(string)", "(array)", "(closure)", "(code)", ...), from a .heapsnapshot file.
// Usage: node --max-old-space-size=8000 scripts/lib/heap-summary.ts FILE [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapRow {
  type: string;
  count: number;
  bytes: number;
}

export function summariseHeap(file: string): { total: number; rows: HeapRow[] } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const [iType, iName, iSize] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const byType = new Map<string, HeapRow>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType] ?? 0] ?? '?';
    const size = snap.nodes[i + iSize] ?? 0;
    total += size;
    const key = type === 'object' || type === 'native' ? (snap.strings[snap.nodes[i + iName] ?? 0] ?? '?') : `(${type})`;
    const row = byType.get(key) ?? { type: key, count: 0, bytes: 0 };
    row.count++;
    row.bytes += size;
    byType.set(key, row);
  }
  return { total, rows: [...byType.values()].sort((a, b) => b.bytes - a.bytes) };
}

export function formatHeap(s: { total: number; rows: HeapRow[] }, top = 15): string {
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return [
    `heap snapshot: ${mb(s.total)} MB in ${s.rows.reduce((n, r) => n + r.count, 0)} nodes; largest by self size:`,
    ...s.rows.slice(0, top).map((r) => `  ${r.type.slice(0, 40).padEnd(40)} ${mb(r.bytes).padStart(7)} MB ${String(r.count).padStart(9)} objects`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: heap-summary.ts FILE [top]');
    process.exit(2);
  }
  console.log(formatHeap(summariseHeap(file), Number(top ?? 15)));
}
