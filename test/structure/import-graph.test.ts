/**
 * The shape of the code, checked so that it stays true: which part may
 * import which, and no import cycles in the product. Imports are read with
 * TypeScript's own pre-processor (static, dynamic and `typeof import()`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT } from '../support/index.ts';

/** Every .ts/.cts/.mjs/.nix file below `dir`, relative to the repository's root. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(REPO_ROOT, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(REPO_ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|cts|mjs|nix)$/.test(name)) out.push(rel);
  }
  return out;
}

/** The repository files `file` imports (relative specifiers only), `.js` and `.cjs` spelled as the `.ts` and `.cts` they are. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(REPO_ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), spec)).replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts'));
}

const FILES = ['src', 'hub-emulator', 'test', 'bench', 'scripts'].flatMap(sources).filter((f) => !f.endsWith('.nix'));
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/** The part a file belongs to: `src`, `hub-emulator`, `test/support`, `test/<suite>`, `bench`, `scripts`. */
function part(file: string): string {
  const [top, second] = file.split('/');
  if (top === 'test') return second === undefined || second.includes('.') ? 'test' : `test/${second}`;
  return top!;
}

/** Which parts each part may import, besides itself. */
const ALLOWED: Record<string, (p: string) => boolean> = {
  src: () => false,
  'hub-emulator': () => false,
  'test/support': (p) => p === 'src' || p === 'hub-emulator',
  bench: (p) => p === 'src' || p === 'hub-emulator' || p === 'test/support',
  scripts: (p) => p === 'src' || p === 'hub-emulator' || p === 'test/support',
  // A suite: the product, the emulator and the support module; never another suite's files.
  suite: (p) => p === 'src' || p === 'hub-emulator' || p === 'test/support',
};

/**
 * The product's stages, in order: a module imports only from its own stage
 * or an earlier one. Settings are read before anything talks to Nix or the
 * Hub; pinning only asks the Hub (its API, and git for a commit's objects);
 * building takes a pin; copying out and
 * persisting take a built store path; the lock file records pins (and
 * builds them as fromLock will); the commands put them together.
 */
const STAGES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['base', ['src/types.ts', 'src/errors.ts', 'src/interrupt.ts', 'src/pid.ts', 'src/ui/', 'src/canonical-manifest.ts', 'src/filters.ts', 'src/gguf.ts', 'src/hub/repo-type.ts', 'src/fs/']],
  ['settings', ['src/settings/']],
  ['nix', ['src/nix/']],
  ['hub', ['src/hub/']],
  ['git', ['src/git/']],
  ['local HF cache', ['src/hf-cache/']],
  ['pin', ['src/pin/']],
  ['build', ['src/build/']],
  ['out and persist', ['src/out-dir.ts', 'src/vendor-manifest.ts', 'src/persist/']],
  ['lock file', ['src/lock/']],
  ['command registry', ['src/commands/spec.ts', 'src/commands/registry.ts']],
  ['completion', ['src/completion/']],
  ['commands', ['src/commands/']],
  ['cli', ['src/fast-answers.cts', 'src/cli.ts', 'src/bin.cts']],
];

/** The stage of a file in src/: the longest prefix that names it. */
function stage(file: string): number {
  let best = -1;
  let bestLength = -1;
  STAGES.forEach(([, prefixes], i) => {
    for (const p of prefixes) if ((file === p || (p.endsWith('/') && file.startsWith(p))) && p.length > bestLength) [best, bestLength] = [i, p.length];
  });
  return best;
}

describe('import graph', () => {
  it('finds the files and their imports', () => {
    assert.ok(FILES.length > 100, `${FILES.length} files`);
    assert.ok(GRAPH.get('src/cli.ts')!.includes('src/commands/registry.ts'), 'a dynamic import is seen');
    for (const [file, deps] of GRAPH) for (const dep of deps) assert.ok(GRAPH.has(dep) || dep.endsWith('.json'), `${file} imports ${dep}, which does not exist`);
  });

  it('has each part import only the parts before it', () => {
    const wrong: string[] = [];
    for (const [file, deps] of GRAPH) {
      const from = part(file);
      const allowed = ALLOWED[from] ?? ALLOWED.suite!;
      for (const dep of deps) {
        const to = part(dep);
        if (to !== from && !allowed(to)) wrong.push(`${file} -> ${dep}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('places every module of src/ in a stage', () => {
    assert.deepEqual(FILES.filter((f) => f.startsWith('src/') && stage(f) < 0), []);
  });

  it('has no module of src/ import from a later stage', () => {
    const wrong: string[] = [];
    for (const [file, deps] of GRAPH) {
      if (!file.startsWith('src/')) continue;
      for (const dep of deps) {
        if (stage(dep) > stage(file)) wrong.push(`${file} (${STAGES[stage(file)]![0]}) -> ${dep} (${STAGES[stage(dep)]![0]})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('has no import cycle in src/', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const dep of GRAPH.get(file) ?? []) if (dep.startsWith('src/')) visit(dep, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of FILES) if (file.startsWith('src/')) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('points to no document outside the repository', () => {
    const outside = /\bSPEC(\.md| §)|NIX-NOTES|\/work\/shared/;
    const files = [...FILES, ...sources('lib').filter((f) => f.endsWith('.nix'))];
    assert.deepEqual(files.filter((f) => f !== 'test/structure/import-graph.test.ts' && outside.test(readFileSync(join(REPO_ROOT, f), 'utf8'))), []);
  });
});
