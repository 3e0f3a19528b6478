/**
 * Nix for tests: the environment every test gives to `nix`, the library
 * (lib/) on the nixpkgs stand-in, and the store queries the suites check
 * with. Nix runs as an async child: the emulator lives in the caller's event
 * loop.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nixString, renderFilters } from '../../src/nix/expr.ts';
import type { Filters } from '../../src/types.ts';
import { LIB_DIR, STUB_DIR } from './paths.ts';
import { applyTestNix, testNix } from './nix-matrix.ts';
import { ok, run, type Ran } from './process.ts';

// Importing this module is what puts the requested Nix first on PATH when a test file runs on its own.
applyTestNix(process.env);

export interface NixTestEnv {
  env: NodeJS.ProcessEnv;
  /** Removes the temporary cache directory. */
  cleanup(): void;
}

/** Host folders every sandboxed builder of this test process also sees, at the same path. */
const sharedWithBuilders: string[] = [];

/**
 * A fresh folder for canaries — files that exist only if a file name was run as code — at
 * the same path for the test, for Nix's evaluation and for every builder: with the sandbox
 * on, a builder has a private /tmp, so a canary it wrote anywhere else would vanish with it.
 * Call it before `nixTestEnv()`; the caller removes it.
 */
export function canaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nix-hug-canaries-'));
  // Builders run as the nixbld users.
  chmodSync(dir, 0o1777);
  sharedWithBuilders.push(dir);
  return dir;
}

/** The NIX_CONFIG text of every test's nix: offline, flakes on, and the sandbox mode the run selected. */
export function testNixConfig(): string {
  const { sandbox, sandboxConfig } = testNix();
  const shared = sandbox !== false && sharedWithBuilders.length > 0 ? [`extra-sandbox-paths = ${sharedWithBuilders.join(' ')}`] : [];
  return ['substituters =', 'experimental-features = nix-command flakes', 'warn-dirty = false', ...sandboxConfig, ...shared].join('\n');
}

/**
 * No substituters (there is no network), flakes on, a fresh fetcher cache
 * (Nix's git cache ignores the URL once a rev is known: a stale cache would
 * hide a wrong endpoint), no LFS smudging inside fetchGit (Nix < 2.20 would
 * run the git-lfs filter), and the Nix version and sandbox mode the test run
 * asked for (nix-matrix.ts).
 */
export function nixTestEnv(extra: NodeJS.ProcessEnv = {}): NixTestEnv {
  const cacheHome = mkdtempSync(join(tmpdir(), 'nix-hug-test-cache-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NIX_CONFIG: testNixConfig(),
    XDG_CACHE_HOME: cacheHome,
    GIT_LFS_SKIP_SMUDGE: '1',
    ...extra,
  };
  return { env, cleanup: () => rmSync(cacheHome, { recursive: true, force: true }) };
}

const NIX_TIMEOUT_MS = 180_000;

/** `nix ARGS`, bounded in time; never throws on a non-zero exit. */
export const runNix = (args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Ran> =>
  run('nix', args, env, { timeoutMs: NIX_TIMEOUT_MS, ...(cwd === undefined ? {} : { cwd }) });

/** A Nix path expression for an absolute path (works with any characters). */
function nixPath(p: string): string {
  return `(/. + ${nixString(p)})`;
}

/** `body` evaluated with `lib` (the nix-hug library on the stand-in) and `pkgs` in scope. */
export function withLib(body: string): string {
  return ['let', `  pkgs = import ${nixPath(STUB_DIR)} { };`, `  lib = import ${nixPath(LIB_DIR)} { inherit pkgs; };`, 'in', body].join('\n');
}

export interface FetchArgs {
  fn?: 'fetchModel' | 'fetchDataset' | 'fetchSpace';
  url: string;
  rev: string;
  fileTreeHash: string;
  filters?: Filters | null;
  endpoint?: string;
}

/** `lib.fetchModel { ... }` (or fetchDataset), every string escaped. */
export function fetchExpr(a: FetchArgs): string {
  const lines = [`(lib.${a.fn ?? 'fetchModel'} {`, `  url = ${nixString(a.url)};`, `  rev = ${nixString(a.rev)};`];
  if (a.endpoint !== undefined) lines.push(`  endpoint = ${nixString(a.endpoint)};`);
  if (a.filters) lines.push(`  filters = ${renderFilters(a.filters)};`);
  lines.push(`  fileTreeHash = ${nixString(a.fileTreeHash)};`, '})');
  return lines.join('\n');
}

/** `nix build` of an expression (with lib in scope): the output path, or the failure. */
export async function nixBuild(body: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<Ran & { outPath?: string }> {
  const r = await runNix(['build', '--impure', '--no-link', '--json', '--max-jobs', '4', ...extraArgs, '--expr', withLib(body)], env);
  if (r.code !== 0) return r;
  const parsed = JSON.parse(r.stdout) as Array<{ outputs: { out: string } }>;
  return { ...r, outPath: parsed[0]?.outputs.out };
}

/** `nix eval --raw` of an expression (with lib in scope). */
export function nixEvalRaw(body: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return runNix(['eval', '--impure', '--raw', '--expr', withLib(body)], env);
}

/** The store path Nix gives a flat sha256 fixed-output path, asked from Nix itself. */
export async function printFixedPath(sha256: string, name: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = ok(await run('nix-store', ['--print-fixed-path', 'sha256', sha256, name], env), 'nix-store --print-fixed-path');
  return r.stdout.trim();
}

/** Direct references of a store path. */
export async function references(storePath: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = ok(await run('nix-store', ['-q', '--references', storePath], env), 'nix-store -q --references');
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Whether the store holds `path` as a valid (registered, complete) path. */
export async function isValidPath(env: NodeJS.ProcessEnv, path: string): Promise<boolean> {
  return (await run('nix-store', ['--check-validity', path], env)).code === 0;
}

export interface Snapshot {
  snapshot: string;
  blob: string;
  tag: string;
}

/**
 * A store path shaped like a fetched snapshot, without the Hub: a directory
 * (input-addressed, so it needs a signature to be imported) holding a
 * config file and a link to a content-addressed "blob". Each call is unique,
 * because the Nix store is shared by every test.
 */
export async function makeSnapshot(env: NodeJS.ProcessEnv, dir: string): Promise<Snapshot> {
  const tag = randomBytes(6).toString('hex');
  const file = join(dir, `snap-${tag}.nix`);
  writeFileSync(
    file,
    `let blob = builtins.toFile "blob-${tag}" "weights ${tag}"; in
derivation {
  name = "nix-hug-test-snap-${tag}";
  system = builtins.currentSystem;
  builder = "/bin/bash"; # mapped into the sandbox by the tests (Nix 2.8 maps no /bin/sh there)
  PATH = "/usr/bin:/bin";
  args = [ "-c" "mkdir $out && ln -s \${blob} $out/model.bin && echo '{\\"tag\\": \\"${tag}\\"}' > $out/config.json" ];
}
`,
  );
  const out = await run('nix', ['--extra-experimental-features', 'nix-command', 'build', '--no-link', '--json', '-f', file], env);
  if (out.code !== 0) throw new Error(`fixture build failed: ${out.stderr}`);
  const snapshot = (JSON.parse(out.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
  const blob = (await run('readlink', [join(snapshot, 'model.bin')], env)).stdout.trim();
  return { snapshot, blob, tag };
}

/**
 * First, as a user would before collecting: removes the `result` links
 * (`fetch`'s GC roots) that tests made for these paths in temporary folders.
 * A root anywhere else is left alone, and then holds its path.
 */
async function dropTestRoots(env: NodeJS.ProcessEnv, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const roots = await run('nix-store', ['-q', '--roots', ...paths], env);
  for (const line of roots.stdout.split('\n')) {
    const link = /^(.+) -> \/nix\/store\/\S+$/.exec(line)?.[1];
    if (link && link.startsWith(`${tmpdir()}/`) && lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(link);
  }
}

/**
 * Deletes PATHS and everything that refers to them (snapshots before their
 * blobs, .drv files that mention a blob), as a garbage collection would —
 * without collecting anyone else's paths. `nix-store --delete` refuses a
 * path while a referrer lives, so it goes round by round.
 */
export async function collect(env: NodeJS.ProcessEnv, paths: string[]): Promise<void> {
  const closure = await run('nix-store', ['-q', '--referrers-closure', ...paths], env);
  if (closure.code !== 0) throw new Error(`nix-store -q --referrers-closure failed: ${closure.stderr}`);
  let left = closure.stdout.split('\n').filter(Boolean);
  await dropTestRoots(env, left);
  for (let round = 0; round < 10 && left.length > 0; round++) {
    const still: string[] = [];
    for (const p of left) {
      const r = await run('nix-store', ['--delete', p], env);
      if (r.code !== 0) still.push(p);
    }
    left = still;
  }
  if (left.length > 0) throw new Error(`could not delete ${left.join(' ')} (a GC root holds them?)`);
}
