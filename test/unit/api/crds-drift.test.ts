// crds/ is generated from src/api; this fails as soon as the two disagree, so a schema change
// cannot ship without its CRD (or a hand edit to a CRD survive the next generation).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCRDs } from '../../../src/api/render.ts';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'crds');
const FIX = 'crds/ is out of date with src/api: run `npm run gen:crds` and commit the result';

describe('crds/ drift', function () {
  const generated = renderCRDs();

  it('holds exactly one file per kind', function () {
    const onDisk = readdirSync(crdDir).filter((f) => f.endsWith('.vcd-operator.io.yaml')).sort();
    assert.deepEqual(onDisk, [...generated.keys()].sort(), FIX);
  });

  for (const [file, text] of generated) {
    it(`${file} matches the schemas`, function () {
      assert.ok(readFileSync(join(crdDir, file), 'utf8') === text, `${file}: ${FIX}`);
    });
  }

  it('generates byte-identical output every time', function () {
    assert.deepEqual(renderCRDs(), generated);
  });
});
