/**
 * The Python `huggingface_hub` (the library behind `hf download`) as a
 * peer of the cold fetch, when a Python that imports it is at hand:
 * `--python PYTHON` names one, `auto` tries `python3` on PATH, `none`
 * leaves the peer out. It is not a dependency of the project: the bench's
 * README says how to install it beside a checkout.
 */
import { run } from '../test/support/index.ts';

export interface PythonPeer {
  python: string;
  /** huggingface_hub's `__version__`. */
  version: string;
}

/** What the bench found: the peer, or why there is none (for RESULTS.md). */
export type PythonPeerLookup = { peer: PythonPeer } | { peer: null; why: string };

const PROBE = 'import huggingface_hub; print(huggingface_hub.__version__)';

export async function findPythonPeer(setting: string): Promise<PythonPeerLookup> {
  if (setting === 'none') return { peer: null, why: 'left out (--python none)' };
  const python = setting === 'auto' ? 'python3' : setting;
  const probe = await run(python, ['-c', PROBE], process.env).catch((err: unknown) => ({ code: -1, stdout: '', stderr: (err as Error).message }));
  const version = probe.stdout.trim();
  if (probe.code === 0 && version) return { peer: { python, version } };
  const why = `${python} cannot import huggingface_hub (${(probe.stderr.trim().split('\n').pop() ?? '').slice(0, 200) || `exit ${probe.code}`})`;
  // A Python named on purpose must work; `auto` only looks.
  if (setting !== 'auto') throw new Error(`--python ${setting}: ${why}`);
  return { peer: null, why };
}

/** Its line under "Machine" in RESULTS.md. */
export function describePythonPeer(found: PythonPeerLookup): string {
  return found.peer ? `huggingface_hub ${found.peer.version} (Python, ${found.peer.python}), the library behind \`hf download\`` : `huggingface_hub (Python): not measured: ${found.why}`;
}
