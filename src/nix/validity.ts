/** Which store paths the local Nix store holds (valid: registered and complete). */
import { NixHugError } from '../errors.js';
import { capture, nixEnv, stripAnsi } from './nix.js';

/** The paths of `paths` that are not valid in the local store (asked 500 at a time: command lines have a limit). */
export async function invalidPaths(paths: string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  const invalid = new Set<string>();
  for (let i = 0; i < paths.length; i += 500) {
    const chunk = paths.slice(i, i + 500);
    const r = await capture('nix-store', ['--check-validity', '--print-invalid', ...chunk], nixEnv(env));
    if (r.code !== 0) throw new NixHugError(`nix-store --check-validity failed: ${stripAnsi(r.stderr).trim()}`, 'check your Nix installation');
    for (const line of r.stdout.split('\n')) if (line) invalid.add(line);
  }
  return invalid;
}
