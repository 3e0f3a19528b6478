/**
 * Store paths shaped like a fetched snapshot, without the Hub: a directory
 * (input-addressed, so it needs a signature to be imported) holding a
 * config file and a link to a content-addressed "blob". Each call is unique,
 * because the Nix store is shared by every test.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { capture } from '../../../src/nix/nix.ts';

export interface Snapshot {
  snapshot: string;
  blob: string;
  tag: string;
}

export async function makeSnapshot(env: NodeJS.ProcessEnv, dir: string): Promise<Snapshot> {
  const tag = randomBytes(6).toString('hex');
  const file = join(dir, `snap-${tag}.nix`);
  writeFileSync(
    file,
    `let blob = builtins.toFile "blob-${tag}" "weights ${tag}"; in
derivation {
  name = "nix-hug-test-snap-${tag}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  PATH = "/usr/bin:/bin";
  args = [ "-c" "mkdir $out && ln -s \${blob} $out/model.bin && echo '{\\"tag\\": \\"${tag}\\"}' > $out/config.json" ];
}
`,
  );
  const out = await capture('nix', ['--extra-experimental-features', 'nix-command', 'build', '--no-link', '--json', '-f', file], env);
  if (out.code !== 0) throw new Error(`fixture build failed: ${out.stderr}`);
  const snapshot = (JSON.parse(out.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
  const blob = (await capture('readlink', [join(snapshot, 'model.bin')], env)).stdout.trim();
  return { snapshot, blob, tag };
}

/**
 * Deletes PATHS and everything that refers to them (snapshots before their
 * blobs, .drv files that mention a blob), as a garbage collection would.
 * `nix-store --delete` refuses a path while a referrer lives, so it goes
 * round by round.
 */
export async function collect(env: NodeJS.ProcessEnv, paths: string[]): Promise<void> {
  const closure = await capture('nix-store', ['-q', '--referrers-closure', ...paths], env);
  if (closure.code !== 0) throw new Error(`nix-store -q --referrers-closure failed: ${closure.stderr}`);
  let left = closure.stdout.split('\n').filter(Boolean);
  for (let round = 0; round < 10 && left.length > 0; round++) {
    const still: string[] = [];
    for (const p of left) {
      const r = await capture('nix-store', ['--delete', p], env);
      if (r.code !== 0) still.push(p);
    }
    left = still;
  }
  if (left.length > 0) throw new Error(`could not delete ${left.join(' ')} (a GC root holds them?)`);
}

export async function isValid(env: NodeJS.ProcessEnv, path: string): Promise<boolean> {
  return (await capture('nix-store', ['--check-validity', path], env)).code === 0;
}

/** Every regular file under `root` (links followed), by relative path. */
export function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}
