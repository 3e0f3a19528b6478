/**
 * Measures the emulator itself (not a test): fixture build time for a
 * 10,000-file repo and CDN throughput for a 256 MiB LFS file with curl.
 * Run: `npx tsx hub-emulator/bench.ts` (numbers go in hub-emulator/README.md).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { manyFiles } from './fixtures/sample.ts';
import { startHub } from './server.ts';

const exec = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function buildTimes(): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const hub = await startHub({ repos: [manyFiles('bench/many', 10_000)] });
    times.push(performance.now() - t0);
    if (i === 0) {
      // List it all once, as `nix-hug ls` would.
      const t1 = performance.now();
      let url: string | null = `${hub.url}/api/models/bench/many/tree/main?recursive=true`;
      let entries = 0;
      while (url) {
        const r: Response = await fetch(url);
        entries += ((await r.json()) as unknown[]).length;
        url = /<([^>]+)>; rel="next"/.exec(r.headers.get('link') ?? '')?.[1] ?? null;
      }
      console.log(`tree API: ${entries} entries in ${(performance.now() - t1).toFixed(0)} ms`);
    }
    await hub.close();
  }
  console.log(`startHub, 10,000 files (1,000 LFS): ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(times).toFixed(0)})`);
}

async function cdnThroughput(): Promise<void> {
  const t0 = performance.now();
  const hub = await startHub({ repos: [{ id: 'bench/weights', commits: [{ files: { 'model.safetensors': { lfs: { size: 256 << 20 } } } }] }] });
  console.log(`startHub with one 256 MiB LFS file: ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    const url = `${hub.url}/bench/weights/resolve/main/model.safetensors`;
    const speeds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { stdout } = await exec('curl', ['-sSfL', '-o', '/dev/null', '-w', '%{time_total} %{speed_download}', url]);
      const [t, speed] = stdout.split(' ').map(Number) as [number, number];
      speeds.push(speed / 1e6);
      console.log(`curl -L -o /dev/null: ${t.toFixed(2)} s, ${(speed / 1e6).toFixed(0)} MB/s`);
    }
    console.log(`CDN median: ${median(speeds).toFixed(0)} MB/s; emulator RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  } finally {
    await hub.close();
  }
}

await buildTimes();
await cdnThroughput();
