/**
 * The Nix archive (NAR) of a single regular file: how an export record is
 * stored in a persist store. Only this one shape is written or accepted
 * (a record is small, so it is built and read in memory).
 *
 * A NAR is a sequence of strings, each an unsigned 64-bit little-endian
 * length, the bytes, and zero padding to a multiple of 8:
 * `nix-archive-1 ( type regular contents <bytes> )`.
 */

function narString(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(bytes.length));
  const pad = Buffer.alloc((8 - (bytes.length % 8)) % 8);
  return Buffer.concat([head, bytes, pad]);
}

const word = (s: string) => narString(Buffer.from(s, 'utf8'));

/** The NAR of a non-executable regular file holding `contents`. */
export function narOfFile(contents: Uint8Array): Buffer {
  return Buffer.concat([word('nix-archive-1'), word('('), word('type'), word('regular'), word('contents'), narString(contents), word(')')]);
}

/** The contents of the regular file a NAR holds; throws (with the reason) for anything else. */
export function fileOfNar(nar: Uint8Array): Buffer {
  const buf = Buffer.from(nar.buffer, nar.byteOffset, nar.byteLength);
  let pos = 0;
  const next = (): Buffer => {
    if (pos + 8 > buf.length) throw new Error('truncated archive');
    const len = buf.readBigUInt64LE(pos);
    if (len > BigInt(buf.length - pos - 8)) throw new Error('truncated archive');
    const n = Number(len);
    const out = buf.subarray(pos + 8, pos + 8 + n);
    pos += 8 + n + ((8 - (n % 8)) % 8);
    return out;
  };
  const expect = (s: string) => {
    const got = next().toString('utf8');
    if (got !== s) throw new Error(`expected \`${s}\`, found \`${got.slice(0, 40)}\``);
  };
  expect('nix-archive-1');
  expect('(');
  expect('type');
  expect('regular');
  let tag = next().toString('utf8');
  if (tag === 'executable') {
    expect('');
    tag = next().toString('utf8');
  }
  if (tag !== 'contents') throw new Error(`expected \`contents\`, found \`${tag.slice(0, 40)}\``);
  const contents = next();
  expect(')');
  if (pos !== buf.length) throw new Error('trailing bytes after the archive');
  return Buffer.from(contents);
}
