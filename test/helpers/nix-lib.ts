/**
 * Helpers to evaluate and build with the Nix library (lib/) and the nixpkgs
 * stand-in (test/nixpkgs-stub/) against the Hub emulator. Nix runs as an
 * async child process: the emulator lives in the test's own event loop, so a
 * synchronous spawn would deadlock it.
 */
import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileTreeHash } from '../../src/manifest.ts';
import { nixString, renderFilters } from '../../src/nix/expr.ts';
import type { Filters, RepoType } from '../../src/types.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LIB_DIR = join(REPO_ROOT, 'lib');
export const STUB_DIR = join(REPO_ROOT, 'test', 'nixpkgs-stub');

/** A Nix path expression for an absolute path (works with any characters). */
function nixPath(p: string): string {
  return `(/. + ${nixString(p)})`;
}

/** `body` evaluated with `lib` (the nix-hug library on the stand-in) and `pkgs` in scope. */
export function withLib(body: string): string {
  return [
    'let',
    `  pkgs = import ${nixPath(STUB_DIR)} { };`,
    `  lib = import ${nixPath(LIB_DIR)} { inherit pkgs; };`,
    'in',
    body,
  ].join('\n');
}

export interface FetchArgs {
  fn?: 'fetchModel' | 'fetchDataset';
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

export interface NixRun {
  code: number;
  stdout: string;
  stderr: string;
}

const NIX_TIMEOUT_MS = 180_000;

/** Runs `nix ARGS` (or another program) and collects its output; never throws on a non-zero exit. */
export function run(program: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<NixRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), NIX_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${program}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

export const runNix = (args: string[], env: NodeJS.ProcessEnv, cwd?: string) => run('nix', args, env, cwd);

/** `nix build` of an expression (with lib in scope): the output path, or the failure. */
export async function nixBuild(body: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<NixRun & { outPath?: string }> {
  const r = await runNix(['build', '--impure', '--no-link', '--json', '--max-jobs', '4', ...extraArgs, '--expr', withLib(body)], env);
  if (r.code !== 0) return r;
  const parsed = JSON.parse(r.stdout) as Array<{ outputs: { out: string } }>;
  return { ...r, outPath: parsed[0]?.outputs.out };
}

/** `nix eval --raw` of an expression (with lib in scope). */
export function nixEvalRaw(body: string, env: NodeJS.ProcessEnv): Promise<NixRun> {
  return runNix(['eval', '--impure', '--raw', '--expr', withLib(body)], env);
}

/** Fails with Nix's output when a run did not succeed. */
export function ok<T extends NixRun>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr}`);
  return r;
}

// ---- What the Hub says (independent of the library) -------------------------

export interface TreeEntry {
  path: string;
  size: number;
  oid: string;
  lfs: { sha256: string; size: number } | null;
}

/** Every file at `rev`, from the tree API, following `Link: rel="next"` pages. */
export async function hubFiles(hubUrl: string, type: RepoType, id: string, rev: string): Promise<TreeEntry[]> {
  const files: TreeEntry[] = [];
  let url: string | null = `${hubUrl}/api/${type}s/${id}/tree/${rev}?recursive=true`;
  for (let page = 0; url !== null && page < 1000; page++) {
    const res: Response = await fetch(url);
    if (!res.ok) throw new Error(`tree listing ${url}: HTTP ${res.status}`);
    const items = (await res.json()) as Array<{ type: string; path: string; size: number; oid: string; lfs?: { oid: string; size: number } }>;
    for (const i of items) {
      if (i.type === 'file') files.push({ path: i.path, size: i.size, oid: i.oid, lfs: i.lfs ? { sha256: i.lfs.oid, size: i.lfs.size } : null });
    }
    const link = res.headers.get('link');
    const next = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
    url = next ? next[1]! : null;
  }
  return files;
}

/** fileTreeHash of a repo at a rev, computed by the CLI's own code from the Hub's listing. */
export async function hubFileTreeHash(hubUrl: string, type: RepoType, id: string, rev: string): Promise<string> {
  return fileTreeHash(await hubFiles(hubUrl, type, id, rev), id);
}

// ---- What a built snapshot holds ---------------------------------------------

export interface SnapshotEntry {
  /** Bytes of the file (through links). */
  bytes: Buffer;
  /** Link target when the entry is a symlink. */
  link: string | null;
}

/** Every non-folder entry below `dir` (links followed for the bytes, never for folders). */
export function readSnapshot(dir: string): Map<string, SnapshotEntry> {
  const out = new Map<string, SnapshotEntry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const abs = join(dir, relPath);
      const st = lstatSync(abs);
      if (st.isDirectory()) walk(relPath);
      else if (st.isSymbolicLink()) {
        const link = readlinkSync(abs);
        let bytes: Buffer;
        try {
          bytes = readFileSync(abs);
        } catch {
          bytes = Buffer.alloc(0);
        }
        out.set(relPath, { bytes, link });
      } else out.set(relPath, { bytes: readFileSync(abs), link: null });
    }
  };
  walk('');
  return out;
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

/** Strips ANSI colour codes (Nix colours its errors). */
export function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
