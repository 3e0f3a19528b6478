/**
 * Where the local Hugging Face cache is, found as huggingface_hub finds it:
 * `HF_HUB_CACHE`, else the older `HUGGINGFACE_HUB_CACHE`, else `HF_HOME/hub`,
 * else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HfCacheLocation {
  dir: string;
  /** Which setting named it, for messages: `HF_HUB_CACHE`, `HF_HOME`, … or `the default`. */
  from: string;
}

export function hfCacheLocation(env: NodeJS.ProcessEnv): HfCacheLocation {
  const home = env.HOME || homedir();
  const expand = (p: string) => resolve(p.startsWith('~/') ? join(home, p.slice(2)) : p);
  if (env.HF_HUB_CACHE) return { dir: expand(env.HF_HUB_CACHE), from: 'HF_HUB_CACHE' };
  if (env.HUGGINGFACE_HUB_CACHE) return { dir: expand(env.HUGGINGFACE_HUB_CACHE), from: 'HUGGINGFACE_HUB_CACHE' };
  if (env.HF_HOME) return { dir: join(expand(env.HF_HOME), 'hub'), from: 'HF_HOME' };
  if (env.XDG_CACHE_HOME) return { dir: join(expand(env.XDG_CACHE_HOME), 'huggingface', 'hub'), from: 'XDG_CACHE_HOME' };
  return { dir: join(home, '.cache', 'huggingface', 'hub'), from: 'the default' };
}
