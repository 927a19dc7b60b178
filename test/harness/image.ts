// Replays the Dockerfile without Docker: each stage is a directory standing in for its WORKDIR,
// COPY takes context files (minus .dockerignore) or another stage's files, RUN runs in the stage
// directory with the Node on PATH. What comes out is the image's working directory, so tests run
// the operator exactly as the container does (`node dist/main.js`, production dependencies only).
import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface ImageTree {
  /** The final stage's WORKDIR on disk. */
  dir: string;
  workdir: string;
  entrypoint: string[];
  user: string;
  labels: Record<string, string>;
  /** Every COPY source, with the stage it came from (undefined: the build context). */
  copies: { from: string | undefined; src: string }[];
  /** Holds every stage; remove it when done. */
  root: string;
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === '' || line.startsWith('#'))) return;
    if (!buf) start = i + 1;
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1) + ' ';
      return;
    }
    buf += line;
    const m = /^(\S+)\s+(.*)$/.exec(buf);
    if (m?.[1] && m[2] !== undefined) out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = '';
  });
  return out;
}

/**
 * .dockerignore patterns as a predicate over context-relative paths (the subset we use: names,
 * dirs, *.ext, and `!` to take a path back in). As in Docker, the last pattern that matches decides.
 */
function ignoreMatcher(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ keep: l.startsWith('!'), pattern: l.replace(/^!/, '') }));
  const matches = (p: string, rel: string) => (p.startsWith('*.') ? rel.endsWith(p.slice(1)) : rel === p || rel.startsWith(`${p}/`));
  return (rel) => rules.reduce((ignored, r) => (matches(r.pattern, rel) ? !r.keep : ignored), false);
}

function substitute(s: string, args: Record<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => args[a ?? b ?? ''] ?? '');
}

/**
 * Builds the image tree of `dockerfile` (default: the repository's) into a fresh directory.
 * `env` is added to RUN steps (e.g. npm_config_prefer_offline to use the local npm cache).
 */
export function replayDockerfile(opts: { dockerfile?: string; context?: string; env?: Record<string, string> } = {}): ImageTree {
  const context = opts.context ?? repoRoot;
  const ignored = ignoreMatcher(existsSync(join(context, '.dockerignore')) ? readFileSync(join(context, '.dockerignore'), 'utf8') : '');
  const instructions = parseDockerfile(readFileSync(opts.dockerfile ?? join(context, 'Dockerfile'), 'utf8'));
  const base = mkdtempSync(join(tmpdir(), 'vcd-operator-image-'));
  const stages = new Map<string, { dir: string; workdir: string }>();
  const buildArgs: Record<string, string> = {};
  let stage: { dir: string; workdir: string; name: string } | undefined;
  let n = 0;
  const tree: ImageTree = { dir: '', workdir: '/', entrypoint: [], user: '', labels: {}, copies: [], root: base };
  const where = (i: Instruction) => `Dockerfile:${i.line} ${i.op} ${i.args}`;
  const inStage = (s: { dir: string; workdir: string }, path: string): string => {
    const abs = path.startsWith('/') ? path : join(s.workdir, path);
    if (!abs.startsWith(s.workdir)) throw new Error(`path ${path} is outside the WORKDIR ${s.workdir}: the replay maps only the WORKDIR`);
    return join(s.dir, relative(s.workdir, abs));
  };

  for (const ins of instructions) {
    const args = substitute(ins.args, buildArgs);
    switch (ins.op) {
      case 'ARG': {
        const [k, v] = args.split('=');
        if (k && !(k in buildArgs)) buildArgs[k] = v ?? '';
        break;
      }
      case 'FROM': {
        const m = /^\S+(?:\s+AS\s+(\S+))?$/i.exec(args);
        const name = m?.[1] ?? `stage-${n}`;
        n++;
        stage = { dir: join(base, name), workdir: '/', name };
        mkdirSync(stage.dir, { recursive: true });
        stages.set(name, stage);
        tree.labels = {};
        tree.entrypoint = [];
        tree.user = '';
        break;
      }
      case 'WORKDIR':
        if (!stage) throw new Error(`${where(ins)} before FROM`);
        stage.workdir = args;
        break;
      case 'COPY': {
        if (!stage) throw new Error(`${where(ins)} before FROM`);
        const parts = args.split(/\s+/);
        const fromFlag = parts.find((p) => p.startsWith('--from='));
        const rest = parts.filter((p) => !p.startsWith('--'));
        const dst = rest.pop() ?? '';
        for (const src of rest) {
          let from: string;
          if (fromFlag) {
            const other = stages.get(fromFlag.slice('--from='.length));
            if (!other) throw new Error(`${where(ins)}: no stage ${fromFlag}`);
            from = inStage(other, src);
          } else {
            if (ignored(src)) throw new Error(`${where(ins)}: ${src} is excluded by .dockerignore`);
            from = join(context, src);
          }
          tree.copies.push({ from: fromFlag?.slice('--from='.length), src });
          if (!existsSync(from))
            throw new Error(`${where(ins)}: ${src} does not exist${fromFlag ? ` in stage ${fromFlag.slice(7)}` : ' in the build context'}`);
          const target = inStage(stage, dst);
          const into = dst.endsWith('/') || rest.length > 1 ? join(target, src.split('/').pop() ?? src) : target;
          const contextRoot = fromFlag ? undefined : context;
          cpSync(from, into, {
            recursive: true,
            filter: (p) => !contextRoot || !ignored(relative(contextRoot, p)),
          });
        }
        break;
      }
      case 'RUN':
        if (!stage) throw new Error(`${where(ins)} before FROM`);
        try {
          execSync(args, { cwd: inStage(stage, stage.workdir), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
        } catch (err) {
          const e = err as { stderr?: Buffer; stdout?: Buffer };
          throw new Error(`${where(ins)} failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, { cause: err });
        }
        break;
      case 'ENTRYPOINT':
        tree.entrypoint = JSON.parse(args) as string[];
        break;
      case 'USER':
        tree.user = args;
        break;
      case 'LABEL':
        for (const m of args.matchAll(/([\w.-]+)="([^"]*)"/g)) if (m[1]) tree.labels[m[1]] = m[2] ?? '';
        break;
      case 'ENV':
      case 'EXPOSE':
        break;
      default:
        throw new Error(`${where(ins)}: the replay does not know ${ins.op}`);
    }
  }
  if (!stage) throw new Error('the Dockerfile has no FROM');
  tree.dir = inStage(stage, stage.workdir);
  tree.workdir = stage.workdir;
  return tree;
}

let cached: ImageTree | undefined;
/** The repository's image tree, built once per test process and removed at exit. */
export function imageTree(): ImageTree {
  if (!cached) {
    cached = replayDockerfile({ env: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' } });
    const root = cached.root;
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return cached;
}
