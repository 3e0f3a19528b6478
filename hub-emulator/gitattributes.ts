/**
 * The Hub's default `.gitattributes` and git's pattern matching for it, so
 * the builder can add an exact-path line for an LFS file no pattern covers
 * (what the Hub does when such a file is uploaded).
 */

/** The `filter=lfs` patterns of a new repo on the Hub, in the Hub's order. */
export const HUB_LFS_PATTERNS: readonly string[] = [
  '*.7z', '*.arrow', '*.bin', '*.bz2', '*.ckpt', '*.ftz', '*.gz', '*.h5', '*.joblib', '*.lfs.*',
  '*.mlmodel', '*.model', '*.msgpack', '*.npy', '*.npz', '*.onnx', '*.ot', '*.parquet', '*.pb',
  '*.pickle', '*.pkl', '*.pt', '*.pth', '*.rar', '*.safetensors', 'saved_model/**/*', '*.tar.*',
  '*.tar', '*.tflite', '*.tgz', '*.wasm', '*.xz', '*.zip', '*.zst', '*tfevents*',
];

const LFS_ATTRS = 'filter=lfs diff=lfs merge=lfs -text';

export function defaultGitattributes(): string {
  return HUB_LFS_PATTERNS.map((p) => `${p} ${LFS_ATTRS}\n`).join('');
}

/** A pattern line matching exactly `path`: glob characters escaped, C-quoted when it holds blanks, quotes or controls. */
export function exactPathLine(path: string): string {
  const escaped = path.replace(/[\\*?[\]!]/g, (c) => `\\${c}`);
  // eslint-disable-next-line no-control-regex
  const needsQuotes = /[\s"\x00-\x1f\x7f]/.test(escaped);
  const pattern = needsQuotes ? cQuote(escaped) : escaped;
  return `${pattern} ${LFS_ATTRS}\n`;
}

export function cQuote(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else if (byte < 0x20 || byte === 0x7f) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  // Non-ASCII bytes were appended as latin1 chars: turn them back into UTF-8.
  return Buffer.from(out + '"', 'latin1').toString('utf8');
}

function cUnquote(s: string): string {
  const bytes: number[] = [];
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = s[++i] ?? '';
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(({ n: 10, t: 9, r: 13, '"': 34, '\\': 92 } as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The patterns of a `.gitattributes` text whose attributes include `filter=lfs`. */
export function lfsPatterns(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let pattern: string;
    let rest: string;
    if (line.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"\s*(.*)$/.exec(line);
      if (!m) continue;
      pattern = cUnquote(`"${m[1]}"`);
      rest = m[2] ?? '';
    } else {
      const m = /^(\S+)\s*(.*)$/.exec(line);
      if (!m) continue;
      pattern = m[1] ?? '';
      rest = m[2] ?? '';
    }
    if (rest.split(/\s+/).includes('filter=lfs')) out.push(pattern);
  }
  return out;
}

function globToRegex(glob: string, anchoredPath: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) {
      re += escapeRe(glob[++i] as string);
    } else if (c === '*') {
      if (glob[i + 1] === '*' && anchoredPath) {
        // `**/` matches zero or more directories; a trailing `/**` everything inside.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** git's rule: a pattern without `/` matches the base name at any depth; with `/` the path from the root. */
export function gitattrMatches(pattern: string, path: string): boolean {
  const p = pattern.startsWith('/') ? pattern.slice(1) : pattern;
  if (!pattern.includes('/')) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    return globToRegex(p, false).test(base);
  }
  return globToRegex(p, true).test(path);
}

export function coveredByLfs(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => gitattrMatches(p, path));
}
