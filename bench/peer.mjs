// @ts-check
/**
 * The peer: @huggingface/hub downloading a snapshot into a fresh HF cache,
 * run as its own process with plain `node`, as a user's script would run
 * (so it does not share the emulator's event loop, and pays Node's start-up
 * and the library's import as nix-hug pays its own). Prints
 * `{"seconds": N}` on stdout, timed around the download alone; the bench
 * also times the whole process, spawn to exit.
 *
 *   node bench/peer.mjs '{"hubUrl":…,"repo":"org/name","revision":…,"cacheDir":…,"mode":"snapshot"|"parallel"}'
 *
 * `snapshot`: snapshotDownload, as shipped (one file after another).
 * `parallel`: listFiles, then downloadFileToCacheDir for every file at once.
 */
import { downloadFileToCacheDir, listFiles, snapshotDownload } from '@huggingface/hub';

/** @type {{ hubUrl: string; repo: string; revision: string; cacheDir: string; mode: 'snapshot' | 'parallel' }} */
const params = JSON.parse(process.argv[2] ?? '{}');
// downloadFileToCacheDir logs every file with console.debug.
console.debug = () => undefined;
/** @type {{ type: 'model'; name: string }} */
const repo = { type: 'model', name: params.repo };
const common = { repo, revision: params.revision, hubUrl: params.hubUrl, cacheDir: params.cacheDir };

const start = performance.now();
if (params.mode === 'snapshot') {
  await snapshotDownload(common);
} else {
  /** @type {string[]} */
  const paths = [];
  for await (const f of listFiles({ repo, revision: params.revision, hubUrl: params.hubUrl, recursive: true })) {
    if (f.type === 'file') paths.push(f.path);
  }
  await Promise.all(paths.map((path) => downloadFileToCacheDir({ ...common, path })));
}
const seconds = (performance.now() - start) / 1000;
process.stdout.write(JSON.stringify({ seconds }) + '\n');
