// Writes crds/<plural>.vcd-operator.io.yaml from src/api, the single source of truth.
// Deterministic: the same schemas always give byte-identical files (test/unit/api/crds-drift.test.ts
// fails when the committed files differ). Run: npm run gen:crds
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCRDs } from '../src/api/render.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'crds');
mkdirSync(dir, { recursive: true });
const files = renderCRDs();
// A kind that was renamed or removed must not leave its old CRD behind.
for (const f of readdirSync(dir)) if (f.endsWith('.vcd-operator.io.yaml') && !files.has(f)) rmSync(join(dir, f));
for (const [name, text] of files) writeFileSync(join(dir, name), text);
console.log(`wrote ${files.size} CRDs to ${dir}`);
