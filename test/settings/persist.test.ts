import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDir, loadPersistConfig, parseConfigText, requireStore, toStoreUrl } from '../../src/settings/persist.ts';
import { NixHugError } from '../../src/errors.ts';

function withConfig(text: string | null, env: NodeJS.ProcessEnv = {}) {
  const root = mkdtempSync(join(tmpdir(), 'nix-hug-config-'));
  const xdg = join(root, 'xdg');
  if (text !== null) {
    mkdirSync(join(xdg, 'nix-hug'), { recursive: true });
    writeFileSync(join(xdg, 'nix-hug', 'config'), text);
  }
  const fullEnv: NodeJS.ProcessEnv = { HOME: join(root, 'home'), XDG_CONFIG_HOME: xdg, ...env };
  return { root, file: join(xdg, 'nix-hug', 'config'), env: fullEnv, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('config: every accepted form of a line', async () => {
  const c = withConfig(
    [
      '# nix-hug settings',
      '',
      '   ',
      '  persist_dir   =   /persist/models   ',
      '\tauto_persist=TRUE',
      '# trailing comment line',
    ].join('\n'),
  );
  try {
    const cfg = await loadPersistConfig(c.env);
    assert.equal(cfg.storeUrl, 'file:///persist/models');
    assert.equal(cfg.localDir, '/persist/models');
    assert.equal(cfg.autoPersist, true);
    assert.equal(cfg.configFile, c.file);
  } finally {
    c.cleanup();
  }
});

test('config: quotes, inline comments, CRLF, ~ expansion, last value wins', () => {
  const v = parseConfigText('persist_dir="~/my models"  # where\r\nauto_persist = false\r\nauto_persist = yes\r\n', '/f');
  assert.deepEqual(v, { persistDir: '~/my models', persistDirLine: 1, autoPersist: true });
  assert.deepEqual(toStoreUrl('~/my models', { home: '/home/u', cwd: null, origin: 'x' }), {
    storeUrl: 'file:///home/u/my models',
    localDir: '/home/u/my models',
  });
  assert.equal(toStoreUrl('~', { home: '/home/u', cwd: null, origin: 'x' }).storeUrl, 'file:///home/u');
});

test('config: store URLs are kept as they are; file:// gives the local directory', () => {
  const o = { home: '/h', cwd: null, origin: 'x' };
  for (const url of ['s3://bucket/models?region=eu-west-1', 'ssh://user@host', 'ssh-ng://host', 'http://cache.local', 'https://cache.example.org']) {
    assert.deepEqual(toStoreUrl(url, o), { storeUrl: url, localDir: null });
  }
  assert.deepEqual(toStoreUrl('file:///srv/cache?compression=zstd', o), { storeUrl: 'file:///srv/cache?compression=zstd', localDir: '/srv/cache' });
  assert.throws(() => toStoreUrl('ftp://host/x', o), /unsupported store URL `ftp:\/\/host\/x`/);
  assert.throws(() => toStoreUrl('file://relative/x', o), /absolute directory/);
});

test('config: a relative persist_dir is refused in the file, taken from the working directory in the environment', async () => {
  assert.throws(() => toStoreUrl('models', { home: '/h', cwd: null, origin: '/cfg' }), /\/cfg: persist_dir must be an absolute path/);
  const c = withConfig(null, { NIX_HUG_PERSIST_DIR: 'rel/dir' });
  try {
    const cfg = await loadPersistConfig(c.env, '/work/x');
    assert.equal(cfg.storeUrl, 'file:///work/x/rel/dir');
  } finally {
    c.cleanup();
  }
});

test('config: a bad line is an error naming the file and the line number', async () => {
  const cases: Array<[string, number, RegExp]> = [
    ['persist_dir=/a\njust some words\n', 2, /expected KEY=VALUE/],
    ['# c\n\nauto_persist=maybe\n', 3, /auto_persist must be true or false, found `maybe`/],
    ['persist-dir=/a\n', 1, /unknown setting `persist-dir`/],
    ['auto_persist=true\npersist_dir=\n', 2, /persist_dir is empty/],
    ['persist_dir=relative/dir\n', 1, /must be an absolute path/],
  ];
  for (const [text, line, re] of cases) {
    const c = withConfig(text);
    try {
      await assert.rejects(loadPersistConfig(c.env), (err: unknown) => {
        assert.ok(err instanceof NixHugError);
        assert.ok(err.message.startsWith(`${c.file}:${line}: `), err.message);
        assert.match(err.message, re);
        return true;
      });
    } finally {
      c.cleanup();
    }
  }
});

test('config: environment variables override the file', async () => {
  const c = withConfig('persist_dir=/from/file\nauto_persist=false\n', { NIX_HUG_PERSIST_DIR: 's3://bucket', NIX_HUG_AUTO_PERSIST: 'true' });
  try {
    const cfg = await loadPersistConfig(c.env);
    assert.equal(cfg.storeUrl, 's3://bucket');
    assert.equal(cfg.localDir, null);
    assert.equal(cfg.autoPersist, true);
  } finally {
    c.cleanup();
  }
  const bad = withConfig(null, { NIX_HUG_AUTO_PERSIST: 'sometimes' });
  try {
    await assert.rejects(loadPersistConfig(bad.env), /NIX_HUG_AUTO_PERSIST must be true or false, found `sometimes`/);
  } finally {
    bad.cleanup();
  }
});

test('config: without any configuration, export and import say how to configure', async () => {
  const c = withConfig(null);
  try {
    const cfg = await loadPersistConfig(c.env);
    assert.equal(cfg.storeUrl, null);
    assert.equal(cfg.autoPersist, false);
    assert.throws(() => requireStore(cfg, 'export'), (err: unknown) => {
      assert.ok(err instanceof NixHugError);
      assert.match(err.message, /`nix-hug export` needs a persist store, and none is configured/);
      assert.match(err.hint ?? '', new RegExp(`set persist_dir in ${c.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*NIX_HUG_PERSIST_DIR`));
      return true;
    });
  } finally {
    c.cleanup();
  }
});

test('config: the directory follows XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(configDir({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/h' }), '/x/cfg/nix-hug');
  assert.equal(configDir({ HOME: '/h' }), '/h/.config/nix-hug');
  assert.equal(configDir({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }), '/h/.config/nix-hug');
});
