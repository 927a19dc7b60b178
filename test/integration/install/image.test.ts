// The Dockerfile, checked without Docker: its steps replayed (test/harness/image.ts) give an image
// tree whose every COPY source existed, with the bundled operator and production dependencies
// only, that starts `node dist/main.js` as the ENTRYPOINT says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildOptions } from '../../../scripts/build.ts';
import { imageTree } from '../../harness/image.ts';

const root = join(import.meta.dirname, '..', '..', '..');

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));

/** What went into the bundle: every source file, and the packages src/ imports, from esbuild's own account. */
async function bundled(): Promise<{ files: string[]; packages: Set<string> }> {
  const { metafile } = await build({ ...buildOptions, write: false, metafile: true });
  const out = new Set<string>();
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (!path.startsWith('src/')) continue;
    for (const i of input.imports) {
      const spec = i.original ?? '';
      if (spec && !spec.startsWith('.') && !spec.startsWith('node:')) out.add(packageOf(spec));
    }
  }
  return { files: Object.keys(metafile.inputs), packages: out };
}

describe('Dockerfile (replayed without Docker)', function () {
  this.timeout(300_000);

  it('every COPY source exists and the ENTRYPOINT file is produced by the build', function () {
    const image = imageTree();
    assert.ok(
      image.copies.some((c) => c.from === 'build' && c.src === '/app/dist'),
      'the compiled operator comes from the build stage',
    );
    assert.deepEqual(image.entrypoint, ['node', 'dist/main.js']);
    assert.ok(existsSync(join(image.dir, 'dist', 'main.js')));
  });

  it('holds no simulator, no tests and no dev dependency; runs as a numeric non-root user with OCI labels', function () {
    const image = imageTree();
    assert.ok(!existsSync(join(image.dir, 'dist', 'sim')), 'dist/sim is not in the image');
    assert.ok(!existsSync(join(image.dir, 'src')) && !existsSync(join(image.dir, 'test')));
    // package-lock marks what only development needs (devDependencies and what only they pull in).
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => p.dev && path.startsWith('node_modules/'));
    assert.ok(
      devOnly.some(([path]) => path === 'node_modules/mocha'),
      'the lock file marks dev-only packages',
    );
    for (const [path] of devOnly) assert.ok(!existsSync(join(image.dir, path)), `${path} (development only) is not in the image`);
    assert.match(image.user, /^[1-9]\d*:[1-9]\d*$/);
    for (const l of ['title', 'description', 'licenses', 'version', 'revision']) assert.ok(image.labels[`org.opencontainers.image.${l}`], `label ${l}`);
  });

  it('starts from production dependencies only: node dist/main.js --help', function () {
    const image = imageTree();
    const [cmd, ...args] = image.entrypoint;
    const out = execFileSync(cmd === 'node' ? process.execPath : (cmd ?? ''), [...args, '--help'], { cwd: image.dir, encoding: 'utf8' });
    assert.match(out, /^vcd-operator: /);
    assert.match(out, /--leader-elect/);
  });

  it('dependencies are exactly where they are used: all the build imports, none only the simulator or tests use', async function () {
    const image = imageTree();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const deps = new Set(Object.keys(pkg.dependencies));
    const { files, packages } = await bundled();
    assert.ok(packages.has('axios') && packages.has('pino'), 'the metafile names what src imports');
    assert.deepEqual(
      files.filter((f) => f.startsWith('src/sim/') || f.startsWith('test/')),
      [],
      'no simulator or test code in the bundle',
    );
    for (const used of packages) assert.ok(deps.has(used), `src imports ${used}, which is not in dependencies`);
    // What the bundle leaves outside is loaded from the image's node_modules.
    for (const ext of buildOptions.external ?? []) assert.ok(existsSync(join(image.dir, 'node_modules', ext, 'package.json')), `${ext} is in the image`);
    // A dependency must be imported by production source (src outside src/sim), wired in yet or not.
    const prodSrc = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !join(e.parentPath, e.name).includes(join('src', 'sim')))
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    for (const d of deps) assert.ok(prodSrc.includes(`'${d}'`) || prodSrc.includes(`'${d}/`), `${d} is in dependencies but no production source imports it`);
  });
});
