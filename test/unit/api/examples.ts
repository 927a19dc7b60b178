// The manifests under examples/, one entry per YAML document, in apply order.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

export interface ExampleDoc {
  file: string;
  obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
}

export function loadExamples(): ExampleDoc[] {
  const out: ExampleDoc[] = [];
  for (const file of readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(examplesDir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      out.push({ file, obj: doc.toJS() as ExampleDoc['obj'] });
    }
  }
  return out;
}
