// Writes crds/<plural>.vcd-operator.io.yaml from src/api, the single source of truth, and the same
// files into the Helm chart (charts/vcd-operator/files/crds/), whose templates install them behind
// crds.install and derive the RBAC rules for our group from them.
// Deterministic: the same schemas always give byte-identical files (test/unit/api/crds-drift.test.ts
// fails when the committed files differ). Run: npm run gen:crds
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCRDs } from '../src/api/render.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CRD_DIRS = [join(root, 'crds'), join(root, 'charts', 'vcd-operator', 'files', 'crds')];

const files = renderCRDs();
for (const dir of CRD_DIRS) {
  mkdirSync(dir, { recursive: true });
  // A kind that was renamed or removed must not leave its old CRD behind.
  for (const f of readdirSync(dir)) if (f.endsWith('.vcd-operator.io.yaml') && !files.has(f)) rmSync(join(dir, f));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  console.log(`wrote ${files.size} CRDs to ${dir}`);
}
