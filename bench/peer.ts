/**
 * The peer: @huggingface/hub downloading a snapshot into a fresh HF cache,
 * run as its own process (as a user would run it, and so it does not share
 * the emulator's event loop). Prints `{"seconds": N}` on stdout, timed
 * around the download only (module loading excluded: in the peer's favour).
 *
 *   tsx bench/peer.ts '{"hubUrl":…,"repo":"org/name","revision":…,"cacheDir":…,"mode":"snapshot"|"parallel"}'
 *
 * `snapshot`: snapshotDownload, as shipped (one file after another).
 * `parallel`: listFiles, then downloadFileToCacheDir for every file at once.
 */
import { downloadFileToCacheDir, listFiles, snapshotDownload } from '@huggingface/hub';

export interface PeerParams {
  hubUrl: string;
  repo: string;
  revision: string;
  cacheDir: string;
  mode: 'snapshot' | 'parallel';
}

const params = JSON.parse(process.argv[2] ?? '{}') as PeerParams;
// downloadFileToCacheDir logs every file with console.debug.
console.debug = () => undefined;
const repo = { type: 'model' as const, name: params.repo };
const common = { repo, revision: params.revision, hubUrl: params.hubUrl, cacheDir: params.cacheDir };

const start = performance.now();
if (params.mode === 'snapshot') {
  await snapshotDownload(common);
} else {
  const paths: string[] = [];
  for await (const f of listFiles({ repo, revision: params.revision, hubUrl: params.hubUrl, recursive: true })) {
    if (f.type === 'file') paths.push(f.path);
  }
  await Promise.all(paths.map((path) => downloadFileToCacheDir({ ...common, path })));
}
const seconds = (performance.now() - start) / 1000;
process.stdout.write(JSON.stringify({ seconds }) + '\n');
