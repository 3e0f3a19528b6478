/**
 * Case 6: `--include '*.safetensors'` on a repo that also has 4 ONNX files of
 * the same size downloads exactly the safetensors bytes. Cold every time.
 */
import { FILTERS } from '../fixtures.ts';
import { fetchRun, forget, revision, type BenchContext } from '../context.ts';
import { exactly } from '../report.ts';

export async function filtersCase(ctx: BenchContext): Promise<void> {
  const r = await revision(ctx.hub, 'model', FILTERS, 'main');
  const safetensors = r.lfs.filter((f) => f.path.endsWith('.safetensors'));
  const expected = safetensors.reduce((n, f) => n + f.size, 0);
  const onnx = r.lfs.length - safetensors.length;
  const times: number[] = [];
  const cdn: number[] = [];
  for (let rep = 0; rep < ctx.config.reps; rep++) {
    const cacheHome = ctx.benv.freshCache();
    await forget(ctx, r, { blobs: true }, cacheHome);
    const res = await fetchRun(ctx, r, cacheHome, ['--include', '*.safetensors']);
    times.push(res.seconds);
    cdn.push(res.cdnBytes);
    ctx.log(`filters, repetition ${rep + 1}/${ctx.config.reps}: ${res.seconds.toFixed(3)} s, ${res.cdnBytes} CDN bytes`);
  }
  ctx.rows.push(
    { case: '6 filters', metric: `nix-hug fetch --include '*.safetensors' (cold)`, unit: 's', values: times },
    {
      case: '6 filters',
      metric: 'CDN bytes',
      unit: 'bytes',
      values: cdn,
      target: exactly(expected, 'bytes', '= safetensors bytes'),
      note: `${safetensors.length} safetensors = ${expected.toLocaleString('en-US')} B; ${onnx} ONNX of the same size left out`,
    },
  );
}
