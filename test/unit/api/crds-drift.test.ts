// crds/ and the chart's copy are generated from src/api; this fails as soon as they disagree, so a
// schema change cannot ship without its CRD (or a hand edit to a CRD survive the next generation).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCRDs } from '../../../src/api/render.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIX = 'is out of date with src/api: run `npm run gen:crds` and commit the result';

describe('CRD drift', function () {
  const generated = renderCRDs();

  for (const dir of ['crds', 'charts/vcd-operator/files/crds']) {
    describe(`${dir}/`, function () {
      it('holds exactly one file per kind', function () {
        const onDisk = readdirSync(join(root, dir))
          .filter((f) => f.endsWith('.vcd-operator.io.yaml'))
          .sort();
        assert.deepEqual(onDisk, [...generated.keys()].sort(), `${dir}/ ${FIX}`);
      });

      for (const [file, text] of generated) {
        it(`${file} matches the schemas`, function () {
          assert.ok(readFileSync(join(root, dir, file), 'utf8') === text, `${dir}/${file} ${FIX}`);
        });
      }
    });
  }

  it('generates byte-identical output every time', function () {
    assert.deepEqual(renderCRDs(), generated);
  });
});
