/**
 * A commit's tree as git stores it (`git ls-tree -r -l -z`), turned into the
 * tree Nix archives when the commit is checked out: regular and executable
 * files, symlinks, and an empty folder for each submodule (git checks a
 * submodule out as an empty folder unless asked to fetch it).
 */
import { MAX_FILES, tooManyFiles } from '../hub/tree.js';
import type { NarNode } from '../nix/nar.js';

/** A blob of the tree: its object id (hex). */
export interface GitBlob {
  oid: string;
  /** The path, as bytes kept in a latin1 string. */
  path: string;
}

/**
 * Reads `git ls-tree -r -l -z` output as it streams (as latin1, so names
 * keep their bytes): `MODE TYPE OID SIZE<TAB>PATH<NUL>` per entry. The
 * output is never held whole, and past `maxFiles` entries (the bound of the
 * Hub's listing) it stops with an error naming the repository: a broken or
 * hostile server cannot make nix-hug hold a file list without end.
 */
export class LsTreeReader {
  private readonly root: Extract<NarNode<GitBlob>, { type: 'directory' }> = { type: 'directory', entries: new Map() };
  /** The start of an entry whose NUL has not arrived yet. */
  private rest: Buffer = Buffer.alloc(0);
  private count = 0;

  constructor(
    /** The repository, as errors name it (`model org/name`). */
    private readonly what: string,
    private readonly maxFiles = MAX_FILES,
  ) {}

  /** The next chunk of output; throws once there are more than `maxFiles` entries. */
  push(chunk: Buffer): void {
    const data = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let start = 0;
    for (let nul = data.indexOf(0); nul >= 0; nul = data.indexOf(0, start)) {
      if (nul > start) this.add(data.toString('latin1', start, nul));
      start = nul + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
  }

  /** The commit's tree, once git is done. */
  end(): NarNode<GitBlob> {
    if (this.rest.length > 0) throw new Error(`git ls-tree output ended inside an entry: ${JSON.stringify(this.rest.toString('latin1', 0, 200))}`);
    return this.root;
  }

  private add(record: string): void {
    if (++this.count > this.maxFiles) throw tooManyFiles(this.what, this.maxFiles);
    const tab = record.indexOf('\t');
    const m = /^(\d{6}) (\w+) ([0-9a-f]{40,64}) +(\d+|-)$/.exec(record.slice(0, tab));
    if (tab < 0 || !m) throw new Error(`unexpected git ls-tree output: ${JSON.stringify(record.slice(0, 200))}`);
    const [, mode, , oid, size] = m as unknown as [string, string, string, string, string];
    const path = record.slice(tab + 1);
    const parts = path.split('/');
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      let next = dir.entries.get(part);
      if (!next) dir.entries.set(part, (next = { type: 'directory', entries: new Map() }));
      if (next.type !== 'directory') throw new Error(`git tree has both a file and a folder at ${JSON.stringify(part)}`);
      dir = next;
    }
    const name = parts[parts.length - 1]!;
    const leaf: GitBlob = { oid, path };
    let node: NarNode<GitBlob>;
    if (mode === '100644' || mode === '100755') node = { type: 'regular', executable: mode === '100755', size: Number(size), leaf };
    else if (mode === '120000') node = { type: 'symlink', leaf };
    else if (mode === '160000') node = { type: 'directory', entries: new Map() };
    else throw new Error(`git tree entry ${JSON.stringify(path)} has mode ${mode}, which nix-hug does not know`);
    dir.entries.set(name, node);
  }
}

/** Every `.gitattributes` blob of the tree. */
export function attributeFiles(root: NarNode<GitBlob>): GitBlob[] {
  const found: GitBlob[] = [];
  const walk = (node: NarNode<GitBlob>) => {
    if (node.type !== 'directory') return;
    for (const [name, child] of node.entries) {
      if (child.type === 'directory') walk(child);
      else if (name === '.gitattributes' && child.type === 'regular') found.push(child.leaf);
    }
  };
  walk(root);
  return found;
}

/**
 * Attributes that make `git checkout` write other bytes than the blob's:
 * end-of-line conversion to CRLF (`eol`, and `crlf`, its old name),
 * `$Id$` expansion (`ident`) and re-encoding (`working-tree-encoding`).
 * Filters (`filter=lfs`) need a configured driver, which a clone without
 * user config has not; `text` alone changes nothing where the native end of
 * line is LF.
 */
const CONVERTING = new Set(['eol', 'crlf', 'ident', 'working-tree-encoding']);

/** Whether a `.gitattributes` text names a converting attribute anywhere (macros included; set or unset alike). */
export function mentionsConversion(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const tokens = line.split(/\s+/).slice(1);
    for (const token of tokens) {
      const name = token.replace(/^[-!]/, '').split('=')[0]!;
      if (CONVERTING.has(name)) return true;
    }
  }
  return false;
}
