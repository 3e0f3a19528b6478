/**
 * Persistent-storage settings: `${XDG_CONFIG_HOME:-~/.config}/nix-hug/config`
 * (`persist_dir=...`, `auto_persist=true|false`), overridden by
 * `NIX_HUG_PERSIST_DIR` / `NIX_HUG_AUTO_PERSIST`. `persist_dir` is a plain
 * directory (used as a `file://` binary cache) or any Nix store URL.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { NixHugError } from '../errors.js';

export interface PersistConfig {
  /** `${XDG_CONFIG_HOME:-~/.config}/nix-hug`: config file, signing key, remote manifests. */
  configDir: string;
  /** The config file (it may not exist). */
  configFile: string;
  /** The persist store as a Nix store URL (`file:///abs/dir`, `s3://…`), or null when not configured. */
  storeUrl: string | null;
  /** For a `file://` store: its directory (where the manifest lives beside the cache). */
  localDir: string | null;
  autoPersist: boolean;
}

/** What one config file says; absent keys are undefined. */
export interface ConfigFileValues {
  persistDir?: string;
  /** Line of the `persist_dir` setting, for errors about its value. */
  persistDirLine?: number;
  autoPersist?: boolean;
}

const URL_SCHEMES = ['file', 's3', 'gs', 'ssh', 'ssh-ng', 'http', 'https'];

const CONFIGURE_HINT = (file: string) =>
  `set persist_dir in ${file} (e.g. \`persist_dir=~/nix-hug-persist\`, or a Nix store URL such as s3://bucket), or set NIX_HUG_PERSIST_DIR`;

export function configDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'nix-hug');
}

function badLine(file: string, lineNo: number, why: string): NixHugError {
  return new NixHugError(`${file}:${lineNo}: ${why}`, 'lines look like `persist_dir=/path/or/store-url` and `auto_persist=true|false`; `#` starts a comment');
}

/** `true`/`false` (also yes/no, on/off, 1/0, any case), else null. */
export function parseBool(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  return null;
}

/** Removes one pair of matching surrounding quotes (a shell habit users bring along). */
function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? (m[2] ?? '') : value;
}

/** Parses the text of a config file; `file` names it in errors. */
export function parseConfigText(text: string, file: string): ConfigFileValues {
  const out: ConfigFileValues = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw badLine(file, lineNo, `expected KEY=VALUE, found \`${line}\``);
    const key = line.slice(0, eq).trim();
    // A ` #` after the value starts a comment; a `#` inside a value (URL fragment, file name) does not.
    const value = unquote(line.slice(eq + 1).replace(/\s+#.*$/, '').trim());
    switch (key) {
      case 'persist_dir':
        if (value === '') throw badLine(file, lineNo, 'persist_dir is empty');
        out.persistDir = value;
        out.persistDirLine = lineNo;
        break;
      case 'auto_persist': {
        const b = parseBool(value);
        if (b === null) throw badLine(file, lineNo, `auto_persist must be true or false, found \`${value}\``);
        out.autoPersist = b;
        break;
      }
      default:
        throw badLine(file, lineNo, `unknown setting \`${key}\` (known: persist_dir, auto_persist)`);
    }
  });
  return out;
}

/**
 * Turns a `persist_dir` value into a Nix store URL. `~` and `~/…` are
 * expanded; a relative directory is taken from `cwd` (the environment
 * variable) or refused (the config file, where it would be ambiguous).
 */
export function toStoreUrl(value: string, opts: { home: string; cwd: string | null; origin: string }): { storeUrl: string; localDir: string | null } {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!URL_SCHEMES.includes(scheme)) {
      throw new NixHugError(`${opts.origin}: unsupported store URL \`${value}\``, `use a directory or a Nix store URL starting with ${URL_SCHEMES.map((s) => `${s}://`).join(', ')}`);
    }
    if (scheme === 'file') {
      const rest = value.slice('file://'.length);
      const path = decodeURIComponent(rest.split('?')[0] ?? '');
      if (!path.startsWith('/')) throw new NixHugError(`${opts.origin}: \`${value}\` must name an absolute directory (file:///abs/dir)`);
      return { storeUrl: value, localDir: resolve(path) };
    }
    return { storeUrl: value, localDir: null };
  }
  let dir = value;
  if (dir === '~') dir = opts.home;
  else if (dir.startsWith('~/')) dir = join(opts.home, dir.slice(2));
  if (!isAbsolute(dir)) {
    if (opts.cwd === null) {
      throw new NixHugError(`${opts.origin}: persist_dir must be an absolute path, ~/…, or a Nix store URL; found \`${value}\``);
    }
    dir = resolve(opts.cwd, dir);
  }
  dir = resolve(dir);
  // Nix reads the part after file:// as a path: no escaping needed, but `?` would start parameters.
  if (dir.includes('?')) throw new NixHugError(`${opts.origin}: a persist directory cannot contain \`?\` (Nix store URLs use it for parameters): ${dir}`);
  return { storeUrl: `file://${dir}`, localDir: dir };
}

/** Reads the config file (if any) and the environment overrides. */
export async function loadPersistConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Promise<PersistConfig> {
  const dir = configDir(env);
  const file = join(dir, 'config');
  let values: ConfigFileValues = {};
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw new NixHugError(`could not read ${file}: ${(err as Error).message}`, 'check its permissions');
    }
  }
  if (text !== null) values = parseConfigText(text, file);
  const home = env.HOME || homedir();

  let storeUrl: string | null = null;
  let localDir: string | null = null;
  const envDir = env.NIX_HUG_PERSIST_DIR;
  if (envDir !== undefined && envDir.trim() !== '') {
    ({ storeUrl, localDir } = toStoreUrl(envDir.trim(), { home, cwd, origin: 'NIX_HUG_PERSIST_DIR' }));
  } else if (values.persistDir !== undefined) {
    ({ storeUrl, localDir } = toStoreUrl(values.persistDir, { home, cwd: null, origin: `${file}:${values.persistDirLine ?? 0}` }));
  }

  let autoPersist = values.autoPersist ?? false;
  const envAuto = env.NIX_HUG_AUTO_PERSIST;
  if (envAuto !== undefined && envAuto.trim() !== '') {
    const b = parseBool(envAuto);
    if (b === null) throw new NixHugError(`NIX_HUG_AUTO_PERSIST must be true or false, found \`${envAuto}\``);
    autoPersist = b;
  }
  return { configDir: dir, configFile: file, storeUrl, localDir, autoPersist };
}

/** The persist store URL, or a clear error saying how to configure one. */
export function requireStore(cfg: PersistConfig, command: string): string {
  if (cfg.storeUrl === null) {
    throw new NixHugError(`\`nix-hug ${command}\` needs a persist store, and none is configured`, CONFIGURE_HINT(cfg.configFile));
  }
  return cfg.storeUrl;
}
