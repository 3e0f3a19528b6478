/**
 * docs/nix-usage.md: every ```nix example is a complete Nix expression that
 * Nix 2.8 parses, and the shell applications' scripts (evaluated with
 * stand-ins for pkgs and the library) are valid bash whose Python heredocs
 * compile — users paste these; a typo there costs them time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nixTestEnv, type NixTestEnv, plain, REPO_ROOT, run } from '../support/index.ts';

const text = readFileSync(join(REPO_ROOT, 'docs', 'nix-usage.md'), 'utf8');
const blocks = [...text.matchAll(/^```nix\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

let nix: NixTestEnv;
before(() => {
  nix = nixTestEnv();
});
after(() => nix.cleanup());

// Only what the examples call; each result names what it stands for.
const MOCKS = `
  pkgs = {
    writeShellApplication = a: a;
    mkShell = a: a;
    python3.withPackages = _: "/nix/store/python";
  };
  nix-hug-lib = {
    fetchModel = _: "/nix/store/model";
    fetchDataset = _: "/nix/store/dataset";
    buildCache = _: "/nix/store/cache";
  };`;

describe('docs/nix-usage.md', () => {
  it('has Nix examples that all parse', async () => {
    assert.ok(blocks.length >= 6, `found ${blocks.length} nix blocks`);
    for (const block of blocks) {
      const r = await run('nix-instantiate', ['--parse', '--expr', block], nix.env);
      assert.equal(r.code, 0, `does not parse:\n${block}\n${plain(r.stderr)}`);
    }
  });

  it('has shell applications whose scripts are valid bash with Python that compiles', async () => {
    const apps = blocks.filter((b) => b.startsWith('{ pkgs, nix-hug-lib }:') && b.includes('writeShellApplication'));
    assert.ok(apps.length >= 2, `found ${apps.length} writeShellApplication examples`);
    for (const app of apps) {
      const r = await run('nix-instantiate', ['--eval', '--strict', '--json', '--expr', `let ${MOCKS}\nin (${app}) { inherit pkgs nix-hug-lib; }`], nix.env);
      assert.equal(r.code, 0, plain(r.stderr));
      const script = (JSON.parse(r.stdout) as { text: string }).text;
      const bash = await run('bash', ['-n', '-c', script], nix.env);
      assert.equal(bash.code, 0, `bash -n:\n${script}\n${bash.stderr}`);
      const python = /<<'EOF'\n([\s\S]*?)^EOF$/m.exec(script)?.[1];
      assert.ok(python, `a Python heredoc ending with EOF at column 0:\n${script}`);
      const compiled = await run('python3', ['-c', 'import sys; compile(sys.argv[1], "doc", "exec")', python], nix.env);
      assert.equal(compiled.code, 0, `Python does not compile:\n${python}\n${compiled.stderr}`);
    }
  });
});
