/** The Nix versions a run compares (`--nix`): each a folder with `nix` in it, or `PATH`. */
import { ok, run } from '../test/support/index.ts';

/** `env` with `nixDir`'s nix first on PATH (`PATH`: unchanged). */
export function withNix(env: NodeJS.ProcessEnv, nixDir: string): NodeJS.ProcessEnv {
  return nixDir === 'PATH' ? env : { ...env, PATH: `${nixDir}:${env.PATH ?? ''}` };
}

/** `Nix 2.26.3`: the version the folder's nix reports. */
export async function nixLabel(nixDir: string): Promise<string> {
  const r = ok(await run(nixDir === 'PATH' ? 'nix' : `${nixDir}/nix`, ['--version'], process.env), 'nix --version');
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(r.stdout)?.[1];
  if (!version) throw new Error(`${nixDir}: nix --version printed ${JSON.stringify(r.stdout)}`);
  return `Nix ${version}`;
}
