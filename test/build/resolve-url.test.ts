import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUrl } from '../../src/build/resolve-url.ts';
import { LIB_DIR, nixEvalRaw, ok, nixTestEnv } from '../support/index.ts';
import { nixString } from '../../src/nix/expr.ts';

const pin = { type: 'model' as const, repoId: 'org/repo', rev: 'a'.repeat(40), fileTreeHash: 'sha256-x', filters: null, endpoint: 'https://hf.example', gitRepoHash: null };

test("the CLI's resolve URLs are the library's, byte for byte (same fixed-output derivations)", async () => {
  const paths = ["it's (a) *star*!.bin", 'a b/c~d_e-f.g', 'ünï/çødé.bin', '$(x)`y`"z".bin', '100%.bin', 'q?#&=+,;.bin'];
  const { env, cleanup } = nixTestEnv();
  try {
    const expr = `builtins.concatStringsSep "\\n" (map (import ${nixString(LIB_DIR + '/internal/percent-encode.nix')}).encodePath [ ${paths.map(nixString).join(' ')} ])`;
    const r = ok(await nixEvalRaw(expr, env), 'nix eval');
    const fromNix = r.stdout.split('\n');
    paths.forEach((p, i) => assert.equal(resolveUrl(pin, p), `https://hf.example/org/repo/resolve/${'a'.repeat(40)}/${fromNix[i]}`, p));
  } finally {
    cleanup();
  }
});
