/** The Nix versions a run compares (`--nix`): each a folder with `nix` in it, or `PATH`. */
import { parseNixVersion, type NixInfo } from '../src/nix/nix.ts';
import { ok, run } from '../test/support/index.ts';

/** `env` with `nixDir`'s nix first on PATH (`PATH`: unchanged). */
export function withNix(env: NodeJS.ProcessEnv, nixDir: string): NodeJS.ProcessEnv {
  return nixDir === 'PATH' ? env : { ...env, PATH: `${nixDir}:${env.PATH ?? ''}` };
}

/** The version the folder's nix reports, as the CLI reads it. */
export async function nixInfo(nixDir: string): Promise<NixInfo> {
  const r = ok(await run(nixDir === 'PATH' ? 'nix' : `${nixDir}/nix`, ['--version'], process.env), 'nix --version');
  const info = parseNixVersion(r.stdout);
  if (!info) throw new Error(`${nixDir}: nix --version printed ${JSON.stringify(r.stdout)}`);
  return info;
}

/** `Nix 2.26.3`: the version the folder's nix reports. */
export async function nixLabel(nixDir: string): Promise<string> {
  return `Nix ${(await nixInfo(nixDir)).version}`;
}
