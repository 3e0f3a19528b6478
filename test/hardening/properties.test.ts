/**
 * Property-based tests (fast-check) of the three places where text typed by
 * a user or named by a repository becomes structure: repository URLs,
 * globs → regexes (compared with Nix's own `builtins.match` on generated
 * paths), and Nix string escaping (every generated string must come back
 * byte for byte from `nix eval`). The Nix comparisons evaluate one batch
 * of generated cases per property (one `nix eval`), with a printed seed.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.ts';
import { globToRegex, nixMatches } from '../../src/filters.ts';
import { parseRepoUrl, validateRef, type ParsedRepoUrl } from '../../src/hub/repo-id.ts';
import { nixString } from '../../src/nix/expr.ts';
import { attempt, LIB_DIR, nixTestEnv, run } from '../support/index.ts';

const nix = nixTestEnv();
after(() => nix.cleanup());

/**
 * Runs a fast-check property, counting every input it generated as tried,
 * and as passed once the whole property held (a failing input fails it).
 */
function property(check: (count: () => void) => void): void {
  let n = 0;
  try {
    check(() => n++);
  } catch (err) {
    attempt('properties', 'generatedInputs', n)(0);
    throw err;
  }
  attempt('properties', 'generatedInputs', n)();
}

// ---- repository URLs ---------------------------------------------------------

/** A name part the Hub accepts: [A-Za-z0-9._-], letter/digit/_ at both ends, no `--` or `..`. */
const namePart = fc
  .stringMatching(/^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9_])?$/)
  .filter((s) => !s.includes('--') && !s.includes('..'));
const repoName = namePart.filter((s) => !/\.git$/i.test(s));
/** A ref without `/` (branch or tag) or a pull request. */
const ref = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_+=,-]{0,20}$/).filter((s) => !s.endsWith('.lock')),
  fc.integer({ min: 1, max: 9999 }).map((n) => `refs/pr/${n}`),
);
const pathInRepo = fc.array(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { maxLength: 3 }).map((s) => s.join('/'));

interface Form {
  input: string;
  want: ParsedRepoUrl;
}

const forms: fc.Arbitrary<Form> = fc
  .record({ org: namePart, name: repoName, ref, path: pathInRepo, kind: fc.integer({ min: 0, max: 9 }) })
  .map(({ org, name, ref: r, path, kind }): Form => {
    const id = `${org}/${name}`;
    const page = (p: string, type: 'model' | 'dataset') => {
      const encoded = r.startsWith('refs/pr/') && kind % 2 === 0 ? r : encodeURIComponent(r);
      return { input: `https://huggingface.co/${type === 'dataset' ? 'datasets/' : ''}${id}/${p}/${encoded}${path ? `/${path}` : ''}`, want: { type, repoId: id, ref: r } };
    };
    switch (kind) {
      case 0: return { input: id, want: { type: null, repoId: id } };
      case 1: return { input: `hf:${id}`, want: { type: 'model', repoId: id } };
      case 2: return { input: `datasets/${id}`, want: { type: 'dataset', repoId: id } };
      case 3: return { input: `hf-datasets:${id}`, want: { type: 'dataset', repoId: id } };
      case 4: return { input: `https://huggingface.co/${id}`, want: { type: 'model', repoId: id } };
      case 5: return { input: `https://hf.co/datasets/${id}/`, want: { type: 'dataset', repoId: id } };
      case 6: return { input: `https://huggingface.co/${id}.git`, want: { type: 'model', repoId: id } };
      case 7: return page('tree', 'model');
      case 8: return page('blob', 'dataset');
      default: return page('resolve', 'model');
    }
  });

/** Characters and sequences that must never get through into an id. */
const poison = fc.constantFrom(' ', '"', "'", '`', '$', '${', ';', '|', '&', '\n', '\t', '\\', '*', '?', '<', '>', '(', '%', '\u0000', '\u2028', 'é');

function isUsageError(err: unknown): boolean {
  return err instanceof UsageError;
}

describe('repository URLs (property)', () => {
  it('every form of a valid repository parses to its type, id and revision', () => {
    property((count) =>
      fc.assert(
        fc.property(forms, ({ input, want }) => {
          count();
          assert.deepEqual(parseRepoUrl(input), want.ref === undefined ? { type: want.type, repoId: want.repoId } : want);
        }),
        { numRuns: 1500 },
      ),
    );
  });

  it('a valid id with a forbidden character anywhere is a usage error', () => {
    property((count) =>
      fc.assert(
        fc.property(namePart, repoName, poison, fc.nat(), fc.constantFrom('', 'hf:', 'datasets/', 'https://huggingface.co/'), (org, name, bad, at, prefix) => {
          count();
          const id = `${org}/${name}`;
          const i = at % (id.length + 1);
          const input = prefix + id.slice(0, i) + bad + id.slice(i);
          // In a page URL, `?` starts the query string (e.g. ?library=transformers): legitimate there.
          fc.pre(!(prefix.startsWith('https:') && bad === '?'));
          assert.throws(() => parseRepoUrl(input), isUsageError, JSON.stringify(input));
        }),
        { numRuns: 1500 },
      ),
    );
  });

  it('any string either parses to a clean id or is a usage error, never another exception', () => {
    property((count) =>
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: fc.constantFrom('a', '/', ':', '.', '-', 'h', 't', 'p', 's', '%', '2', 'F', 'datasets', 'tree', 'hf'), maxLength: 30 })), (input) => {
          count();
          let parsed: ParsedRepoUrl;
          try {
            parsed = parseRepoUrl(input);
          } catch (err) {
            assert.ok(isUsageError(err), `${JSON.stringify(input)}: ${String(err)}`);
            return;
          }
          // org/name, or a legacy id without an owner (`gpt2`) that the Hub resolves.
          assert.match(parsed.repoId, /^([A-Za-z0-9_][A-Za-z0-9._-]*\/)?[A-Za-z0-9_][A-Za-z0-9._-]*$/, JSON.stringify(input));
          assert.ok(!parsed.repoId.includes('..'), JSON.stringify(input));
          if (parsed.ref !== undefined) assert.equal(validateRef(parsed.ref), parsed.ref);
        }),
        { numRuns: 3000 },
      ),
    );
  });

  it('a ref either passes unchanged or is a usage error; what passes is safe in a message, URL or file name', () => {
    property((count) =>
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (r) => {
          count();
          let ok: string;
          try {
            ok = validateRef(r);
          } catch (err) {
            assert.ok(isUsageError(err), `${JSON.stringify(r)}: ${String(err)}`);
            return;
          }
          assert.equal(ok, r);
          assert.doesNotMatch(ok, /[\s\u0000-\u001f\u007f"'`\\]|\.\.|\$\{|^-|\/\/|^\/|\/$/, JSON.stringify(r));
        }),
        { numRuns: 3000 },
      ),
    );
  });
});

// ---- globs against Nix's builtins.match --------------------------------------

/** Characters that stress the escaping: every ERE metacharacter, `/`, space, multi-byte UTF-8. */
const GLOB_CHARS = ['a', 'b', '.', '*', '?', '[', ']', '{', '}', '(', ')', '+', '^', '$', '|', '\\', '/', '-', ' ', ',', 'é', '日', '😀'];
const globChar = fc.constantFrom(...GLOB_CHARS);
const glob = fc.array(globChar, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
const pathChar = fc.constantFrom(...GLOB_CHARS.filter((c) => c !== '*' && c !== '?'), 'x', '*', '?');

/** A path the glob should match: `*` → any run of characters, `?` → one character. */
function instance(g: string, fill: string[]): string {
  let k = 0;
  let out = '';
  for (const ch of g) {
    if (ch === '*') out += fill[k++ % fill.length]!.repeat(k % 3);
    else if (ch === '?') out += fill[k++ % fill.length]!;
    else out += ch;
  }
  return out;
}

/** Globs with many stars (where a backtracking matcher is slow and a greedy one could go wrong), over few characters. */
const starGlob = fc.array(fc.constantFrom('*', '*', '*', 'a', 'b', '?', '.', '/', 'é'), { minLength: 2, maxLength: 10 }).map((cs) => cs.join(''));
const starPathChar = fc.constantFrom('a', 'b', 'a', '.', '/', 'é', 'x');

const globCase = fc.oneof(
  fc.record({ glob, path: fc.array(pathChar, { maxLength: 10 }).map((cs) => cs.join('')) }),
  fc.record({ glob, fill: fc.array(pathChar, { minLength: 1, maxLength: 4 }) }).map(({ glob: g, fill }) => ({ glob: g, path: instance(g, fill) })),
  fc.record({ glob: starGlob, path: fc.array(starPathChar, { maxLength: 14 }).map((cs) => cs.join('')) }),
  fc.record({ glob: starGlob, fill: fc.array(starPathChar, { minLength: 1, maxLength: 3 }) }).map(({ glob: g, fill }) => ({ glob: g, path: instance(g, fill) })),
);

/** Evaluates `body` (a Nix expression producing JSON-able data) and returns the parsed value. */
async function nixJson(body: string): Promise<unknown> {
  const r = await run('nix', ['eval', '--impure', '--json', '--expr', body], nix.env);
  if (r.code !== 0) throw new Error(`nix eval failed: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as unknown;
}

describe('glob → regex (property, against Nix)', () => {
  it("Nix's builtins.match, the library's matcher without backtracking and nixMatches agree on generated globs and paths", async () => {
    const seed = randomInt(2 ** 31);
    const cases = fc.sample(globCase, { numRuns: 1000, seed }).filter((c) => c.path !== '');
    const items = cases.map((c) => `{ r = ${nixString(globToRegex(c.glob))}; p = ${nixString(c.path)}; }`);
    const glob = `(import (/. + ${nixString(join(LIB_DIR, 'internal', 'glob-match.nix'))}))`;
    const got = (await nixJson(`map (c: [ (builtins.match c.r c.p != null) (${glob}.regexMatcher c.r c.p) ]) [\n${items.join('\n')}\n]`)) as Array<[boolean, boolean]>;
    const wrong = cases.filter((c, i) => got[i]![0] !== nixMatches(globToRegex(c.glob), c.path) || got[i]![1] !== got[i]![0]);
    attempt('properties', 'generatedInputs', cases.length)(cases.length - wrong.length);
    assert.deepEqual(
      wrong.slice(0, 5).map((c) => ({ ...c, regex: globToRegex(c.glob), nix: got[cases.indexOf(c)], cli: nixMatches(globToRegex(c.glob), c.path) })),
      [],
      `seed ${seed}: ${wrong.length} disagreements`,
    );
    // The generator must produce both outcomes, and globs the library matches without backtracking (2+ stars).
    assert.ok(got.some((m) => m[0]) && got.some((m) => !m[0]), `seed ${seed}: one-sided sample`);
    assert.ok(cases.filter((c) => (globToRegex(c.glob).match(/\.\*/g) ?? []).length >= 2).length >= 100, `seed ${seed}: few multi-star globs`);
  });
});

// ---- Nix string escaping -----------------------------------------------------

const NIX_SPECIALS = ['$', '{', '}', '${', '$${', '\\${', "''", "''$", '"', '\\', '\\n', '\n', '\r', '\t', "'", '#', '/*', '*/', '`', 'é', '日本', '😀', '\u007f', '\u0001'];
const nixText = fc
  .array(fc.oneof(fc.constantFrom(...NIX_SPECIALS), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 8 })
  .map((parts) => parts.join(''))
  // A Nix string cannot hold NUL; a lone surrogate has no UTF-8 form (no file name or flag can carry one).
  .filter((s) => !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s));

describe('Nix string escaping (property, against Nix)', () => {
  it('every generated string comes back exactly from nix eval', async () => {
    const seed = randomInt(2 ** 31);
    const strings = fc.sample(nixText, { numRuns: 1000, seed });
    const got = (await nixJson(`[\n${strings.map(nixString).join('\n')}\n]`)) as string[];
    const wrong = strings.filter((s, i) => got[i] !== s).map((s) => JSON.stringify(s));
    attempt('properties', 'generatedInputs', strings.length)(strings.length - wrong.length);
    assert.deepEqual(wrong.slice(0, 5), [], `seed ${seed}: ${wrong.length} strings changed`);
    assert.equal(got.length, strings.length);
  });
});
