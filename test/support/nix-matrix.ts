/**
 * Which Nix a test run uses, and in which mode. One suite runs against
 * several Nix versions (CI: the whole suite on one, every suite that runs Nix
 * on the other), selected by the environment:
 *
 *   NIX_HUG_TEST_NIX=DIR          the folder holding the `nix` to test (e.g. /opt/nix-2.26/bin),
 *                                 put first on PATH of every test and of the CLI they start;
 *                                 unset: the `nix` already on PATH
 *   NIX_HUG_TEST_NIX_VERSION=V    the version that folder must hold (e.g. 2.26): a run that
 *                                 finds another one fails instead of testing the wrong Nix
 *   NIX_HUG_TEST_SANDBOX=true|false   every test's nix builds with the sandbox on or off
 *                                 (on: without falling back, and with the host paths the
 *                                 nixpkgs stand-in's builders need); unset: the machine's nix.conf
 *
 * scripts/run-tests.mjs applies these before any test starts; test/support/nix.ts applies
 * them again when a test file runs on its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const NIX_VAR = 'NIX_HUG_TEST_NIX';
export const VERSION_VAR = 'NIX_HUG_TEST_NIX_VERSION';
export const SANDBOX_VAR = 'NIX_HUG_TEST_SANDBOX';

/**
 * Host paths the stand-in's `runCommand` (the host's bash and coreutils) needs inside the
 * sandbox. `/bin` itself cannot be mapped: it collides with the `/bin/sh` Nix maps there.
 * Real nixpkgs brings its own tools and needs none of them.
 */
export const STAND_IN_SANDBOX_PATHS = ['/usr', '/lib=/usr/lib', '/lib64=/usr/lib64', '/bin/bash=/usr/bin/bash'];

/** The folders (and files) whose suites run Nix: CI runs them on every Nix version it tests. */
export const NIX_SUITES = [
  'test/bench/',
  'test/build/',
  'test/daemon/',
  'test/fetch/',
  'test/flake/',
  'test/hardening/',
  'test/lib/',
  'test/lock/',
  'test/nix/',
  'test/packaging/',
  'test/persist/',
  // The unit suites that check the CLI's logic against Nix itself (filters, manifest).
  'test/unit/filters.test.ts',
  'test/unit/canonical-manifest.test.ts',
];

export interface TestNix {
  /** The folder given in NIX_HUG_TEST_NIX, or null for the `nix` on PATH. */
  dir: string | null;
  /** The version the run must find, or null. */
  expectVersion: string | null;
  /** true / false when the run forces the sandbox, null for the machine's setting. */
  sandbox: boolean | null;
  /** NIX_CONFIG lines for that sandbox mode. */
  sandboxConfig: string[];
}

/** The selection the environment makes (throws on a value it does not understand). */
export function testNix(env: NodeJS.ProcessEnv = process.env): TestNix {
  const dir = env[NIX_VAR] || null;
  const rawSandbox = env[SANDBOX_VAR] || '';
  if (!['', 'true', 'false'].includes(rawSandbox)) throw new Error(`${SANDBOX_VAR} must be true or false, not ${JSON.stringify(rawSandbox)}`);
  const sandbox = rawSandbox === '' ? null : rawSandbox === 'true';
  const sandboxConfig =
    sandbox === null
      ? []
      : sandbox
        ? ['sandbox = true', 'sandbox-fallback = false', `extra-sandbox-paths = ${STAND_IN_SANDBOX_PATHS.join(' ')}`]
        : ['sandbox = false'];
  return { dir, expectVersion: env[VERSION_VAR] || null, sandbox, sandboxConfig };
}

/** Puts the selected Nix first on `env.PATH` (once); throws when that folder holds no `nix`. */
export function applyTestNix(env: NodeJS.ProcessEnv): void {
  const { dir } = testNix(env);
  if (dir === null) return;
  if (!existsSync(join(dir, 'nix'))) throw new Error(`${NIX_VAR}=${dir}: there is no nix in that folder`);
  const path = env.PATH ?? '';
  if (path.split(delimiter)[0] !== dir) env.PATH = path === '' ? dir : `${dir}${delimiter}${path}`;
}

export interface FoundNix {
  /** e.g. `2.26.3`. */
  version: string;
  /** The `nix` that runs, resolved through PATH. */
  path: string;
  /** The sandbox mode every test's nix is given. */
  sandbox: 'on' | 'off' | 'as nix.conf says';
}

/** The Nix the tests run: asks `nix --version` through `env.PATH`; fails when it is not the one requested. */
export function findTestNix(env: NodeJS.ProcessEnv = process.env): FoundNix {
  const sel = testNix(env);
  const where = spawnSync('sh', ['-c', 'command -v nix'], { env, encoding: 'utf8' });
  const path = where.stdout.trim();
  if (where.status !== 0 || path === '') throw new Error('no `nix` on PATH: install Nix (see the README) or set NIX_HUG_TEST_NIX');
  const out = spawnSync(path, ['--version'], { env, encoding: 'utf8' });
  const version = /(\d+\.\d+(?:\.\d+)?)\s*$/.exec(out.stdout.trim())?.[1];
  if (out.status !== 0 || !version) throw new Error(`${path} --version failed: ${out.stderr.trim() || out.stdout.trim()}`);
  if (sel.expectVersion !== null && version !== sel.expectVersion && !version.startsWith(`${sel.expectVersion}.`)) {
    throw new Error(`${VERSION_VAR}=${sel.expectVersion}, but the nix on PATH (${path}) is ${version}`);
  }
  return { version, path, sandbox: sel.sandbox === null ? 'as nix.conf says' : sel.sandbox ? 'on' : 'off' };
}

let found: FoundNix | undefined;

/**
 * The version of the Nix the tests run, for the few assertions where Nix versions behave
 * differently (each says what was measured on which version). Asked once per test process.
 */
export function testNixVersion(): { major: number; minor: number } {
  found ??= findTestNix();
  const [major = 0, minor = 0] = found.version.split('.').map(Number);
  return { major, minor };
}

/** Whether the tests run Nix `major.minor` or newer. */
export function nixAtLeast(major: number, minor: number): boolean {
  const v = testNixVersion();
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** "Nix 2.26.3 (/opt/nix-2.26/bin/nix), sandbox on": what a run says it tested. */
export function describeTestNix(found: FoundNix): string {
  return `Nix ${found.version} (${found.path}), sandbox ${found.sandbox}`;
}
