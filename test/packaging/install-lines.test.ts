/**
 * Install lines, flake URLs and links in what users read never send them to
 * another project: the original bash nix-hug lives at github:longregen/nix-hug,
 * which is not this code. Until this project has a home of its own, the docs
 * say how to use a checkout (`path:`, `git+file:`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const shipped = ['README.md', 'flake.nix', 'package.json', ...readdirSync('docs').map((f) => join('docs', f)), ...readdirSync('nix').map((f) => join('nix', f))].filter((f) => /\.(md|nix|json)$/.test(f));

/** Flake references and repository links that could be an install source. */
const SOURCE = /github:[\w.-]+\/[\w.-]+|https?:\/\/github\.com\/[\w.-]+\/[\w.-]+/g;
/** What may appear: nixpkgs, and the Git LFS specification (a format, not an install). */
const ALLOWED = [/^github:NixOS\/nixpkgs/, /^https?:\/\/github\.com\/NixOS\/nixpkgs/];

test('README, docs and the Nix files name no other project as where to get nix-hug', () => {
  const found: string[] = [];
  for (const file of shipped) {
    const text = readFileSync(file, 'utf8');
    if (/longregen/i.test(text)) found.push(`${file}: mentions longregen`);
    for (const m of text.matchAll(SOURCE)) if (!ALLOWED.some((a) => a.test(m[0]))) found.push(`${file}: ${m[0]}`);
  }
  assert.deepEqual(found, []);
});

test('the README and docs/nix-usage.md say how to use a checkout: flake input, nix run, npm', () => {
  const readme = readFileSync('README.md', 'utf8');
  const usage = readFileSync(join('docs', 'nix-usage.md'), 'utf8');
  assert.match(readme, /inputs\.nix-hug\.url = "path:\/path\/to\/nix-hug";/);
  assert.match(readme, /nix run path:\/path\/to\/nix-hug -- fetch/);
  assert.match(readme, /npm install -g \.\/nix-hug-\*\.tgz/);
  assert.match(usage, /nix run path:\/path\/to\/nix-hug -- fetch/);
  assert.match(usage, /inputs\.nix-hug\.url = "path:\/path\/to\/nix-hug";/);
});
