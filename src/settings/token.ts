/**
 * The Hugging Face token, found where huggingface_hub looks for it:
 * HF_TOKEN, else the file $HF_TOKEN_PATH, else $HF_HOME/token (HF_HOME
 * defaults to ${XDG_CACHE_HOME:-~/.cache}/huggingface). Trimmed; empty means none.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface TokenSource {
  token: string;
  /** `HF_TOKEN` or the file it came from (for --debug; never the token). */
  from: string;
}

export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  if (env.HF_TOKEN_PATH) return env.HF_TOKEN_PATH;
  const home = env.HOME || homedir();
  const hfHome = env.HF_HOME || join(env.XDG_CACHE_HOME || join(home, '.cache'), 'huggingface');
  return join(hfHome, 'token');
}

export function findToken(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): TokenSource | null {
  const fromEnv = env.HF_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, from: 'HF_TOKEN' };
  const path = tokenFilePath(env);
  let text: string;
  try {
    text = readFile(path);
  } catch {
    return null; // no token file: anonymous access
  }
  const token = text.trim();
  return token ? { token, from: path } : null;
}
