/**
 * Nothing that takes over a second is silent: the logger says what a wait
 * is for, nix's own log is turned into words (binary caches, git, the
 * snapshot), and --debug shows each command nix-hug runs as a shell line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWait, NixWaitStatus, OFFLINE_CACHE_TIP } from '../../src/build/nix-activity.ts';
import { commandLine, shellWord, traceCommand, traceCommandsTo } from '../../src/ui/command-trace.ts';
import { createLogger, waiting } from '../../src/ui/logger.ts';

/** A logger on a clock the test moves; ticks run every 5 ms of real time. */
function clocked(level: 'normal' | 'quiet' = 'normal') {
  let t = 0;
  const lines: string[] = [];
  const log = createLogger({ level, write: (l) => void lines.push(l), now: () => t, tickMs: 5 });
  const advance = async (ms: number) => {
    t += ms;
    await sleep(20);
  };
  return { log, lines, advance };
}

describe('waits', () => {
  it('say what they wait for after a second of silence, once, and again after other lines', async () => {
    const { log, lines, advance } = clocked();
    const w = log.waitFor('waiting for the Hub');
    await advance(900);
    assert.deepEqual(lines, [], 'under a second: nothing');
    await advance(200);
    assert.deepEqual(lines, ['… waiting for the Hub\n']);
    await advance(5000);
    assert.equal(lines.length, 1, 'not repeated while nothing else is printed');
    log.info('other line');
    await advance(500);
    assert.equal(lines.length, 2);
    await advance(600);
    assert.deepEqual(lines.slice(2), ['… waiting for the Hub\n'], 'the last line on screen says what is awaited');
    w.update('retrying in 4 s');
    await advance(1100);
    assert.deepEqual(lines.slice(3), ['… retrying in 4 s\n']);
    await advance(31_000);
    assert.match(lines.at(-1) ?? '', /^… retrying in 4 s \(\d+ s so far\)\n$/);
    w.done();
    const n = lines.length;
    await advance(60_000);
    assert.equal(lines.length, n, 'a finished wait says nothing');
  });

  it('is silent when the wait ends within a second, when output keeps coming, and with --quiet', async () => {
    const { log, lines, advance } = clocked();
    await waiting(log, 'quick', advance(500));
    const w = log.waitFor('busy but talking');
    for (let i = 0; i < 5; i++) {
      await advance(600);
      log.touch(); // e.g. the download bar redrawing
    }
    w.done();
    assert.deepEqual(lines, []);
    const quiet = clocked('quiet');
    const q = quiet.log.waitFor('hidden');
    await quiet.advance(5000);
    q.done();
    assert.deepEqual(quiet.lines, []);
  });
});

describe("nix's activities in words", () => {
  // Recorded from `nix build --log-format internal-json -v` on Nix 2.8 and 2.26, offline.
  const cacheInfo = { action: 'start', id: 2, type: 101, level: 4, text: "downloading 'https://cache.nixos.org/nix-cache-info'", fields: ['https://cache.nixos.org/nix-cache-info'] };
  const querying = { action: 'start', id: 1, type: 0, level: 6, text: 'querying info about missing paths' };

  it('says when Nix asks binary caches, and how to skip that offline', () => {
    assert.equal(describeWait(querying), `asking the binary caches (substituters) about the missing store paths (${OFFLINE_CACHE_TIP})`);
    assert.equal(describeWait(cacheInfo), `asking the binary cache https://cache.nixos.org whether it has the missing store paths (${OFFLINE_CACHE_TIP})`);
    assert.equal(
      describeWait({ action: 'start', id: 3, type: 109, fields: ['/nix/store/4vl8z7sxbp879gpaybcwmznrlkhiil4r-hf-blob-abc', 'https://cache.lan'] }),
      `asking the binary cache https://cache.lan about hf-blob-abc (${OFFLINE_CACHE_TIP})`,
    );
    assert.match(OFFLINE_CACHE_TIP, /NIX_CONFIG='substituters ='/);
  });

  it('names git fetches, downloads, the snapshot and the containers that say nothing', () => {
    assert.equal(describeWait({ action: 'start', id: 4, type: 0, text: "fetching Git repository 'http://h/org/m.git'" }), "fetching Git repository 'http://h/org/m.git'");
    assert.equal(describeWait({ action: 'start', id: 5, type: 105, fields: ['/nix/store/87j5305a60xxhnxlga89vlmsa93jybd1-hf-model-exp--m-5803141.drv', '', 1, 1] }), 'assembling the snapshot hf-model-exp--m-5803141');
    assert.equal(describeWait({ action: 'start', id: 6, type: 105, fields: ['/nix/store/9x6g40kxpjjcm47ymk2ikjq7klspssl0-hf-blob-14e6.drv'] }), 'downloading the LFS files');
    assert.equal(describeWait({ action: 'start', id: 7, type: 101, fields: ['http://h/org/m/resolve/abc/a.bin'] }), 'downloading the LFS files');
    for (const type of [102, 103, 104]) assert.equal(describeWait({ action: 'start', id: 8, type, text: '' }), null);
    assert.equal(describeWait({ action: 'start', id: 9, type: 0, text: '' }), null);
  });

  it('follows the latest open activity, and keeps the last one said once all stopped', () => {
    const a = new NixWaitStatus('evaluating');
    assert.equal(a.current(), 'evaluating');
    assert.match(a.onEvent(querying) ?? '', /^asking the binary caches/);
    assert.match(a.onEvent(cacheInfo) ?? '', /^asking the binary cache https:\/\/cache\.nixos\.org/);
    assert.equal(a.onEvent({ action: 'result', id: 2, type: 105, fields: [0, 0, 0, 0] }), null);
    assert.match(a.onEvent({ action: 'stop', id: 2 }) ?? '', /^asking the binary caches \(substituters\)/);
    assert.equal(a.onEvent({ action: 'stop', id: 1 }), null, 'nothing new started: the last words stay');
    assert.equal(a.onEvent({ action: 'start', id: 10, type: 105, fields: ['/nix/store/87j5305a60xxhnxlga89vlmsa93jybd1-hf-model-x.drv'] }), 'assembling the snapshot hf-model-x');
  });
});

describe('--debug shows the commands', () => {
  it('as shell lines: only the variables nix-hug set, quoted so they paste back', () => {
    assert.equal(shellWord('build'), 'build');
    assert.equal(shellWord('nix-command flakes'), "'nix-command flakes'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
    assert.equal(shellWord('substituters =\nsandbox = true'), "$'substituters =\\nsandbox = true'");
    assert.equal(shellWord(''), "''");
    const env = { ...process.env, GIT_LFS_SKIP_SMUDGE: '1', NIX_HUG_TEST_ONLY: 'a b' };
    assert.equal(commandLine('nix', ['--extra-experimental-features', 'nix-command flakes', 'build'], env), "GIT_LFS_SKIP_SMUDGE=1 NIX_HUG_TEST_ONLY='a b' nix --extra-experimental-features 'nix-command flakes' build");
  });

  it('with a number pairing each start with its end (exit code, seconds), tokens redacted, nothing without --debug', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => void lines.push(l) });
    const token = 'hf_commandTraceSecret0123456789';
    log.addSecret(token);
    traceCommandsTo(log);
    try {
      const t = traceCommand('git', ['ls-remote', 'http://h/org/m.git'], { ...process.env, GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}` });
      t.end(0);
      traceCommand('nix', ['build']).end(null, 'SIGTERM');
    } finally {
      traceCommandsTo(null);
    }
    const text = lines.join('');
    assert.ok(!text.includes(token), text);
    assert.match(text, /^debug: \[(\d+)\] \$ GIT_CONFIG_VALUE_0='Authorization: Bearer \*\*\*' git ls-remote http:\/\/h\/org\/m\.git\n/);
    const id = /\[(\d+)\]/.exec(text)![1];
    assert.match(text, new RegExp(`debug: \\[${id}\\] git: exit 0 after \\d+\\.\\d\\d s\\n`));
    assert.match(text, /\] nix: killed by SIGTERM after/);
    const before = lines.length;
    traceCommandsTo(createLogger({ level: 'normal', write: (l) => void lines.push(l) }));
    traceCommand('nix', ['build']).end(0);
    traceCommandsTo(null);
    assert.equal(lines.length, before, 'not traced without --debug');
  });
});
