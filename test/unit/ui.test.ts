import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorAllowed, colorsEnabled, makeColors } from '../../src/ui/color.ts';
import { createLogger, redactTokens } from '../../src/ui/logger.ts';
import { humanSize } from '../../src/ui/size.ts';
import { printable } from '../../src/ui/text.ts';

describe('ui', () => {
  it('human sizes in decimal units', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(999), '999 B');
    assert.equal(humanSize(1000), '1.00 kB');
    assert.equal(humanSize(1536), '1.54 kB');
    assert.equal(humanSize(999_999), '1.00 MB');
    assert.equal(humanSize(15_000_000), '15.0 MB');
    assert.equal(humanSize(4_900_000_000), '4.90 GB');
    assert.equal(humanSize(123_456_789_012_345), '123 TB');
  });

  it('colours only on a TTY without NO_COLOR', () => {
    assert.equal(colorsEnabled({ isTTY: true }, colorAllowed({})), true);
    assert.equal(colorsEnabled({ isTTY: false }, colorAllowed({})), false);
    assert.equal(colorsEnabled({ isTTY: true }, colorAllowed({ NO_COLOR: '1' })), false);
    assert.equal(colorsEnabled({ isTTY: true }, colorAllowed({ TERM: 'dumb' })), false);
    assert.equal(makeColors(false).green('x'), 'x');
    assert.equal(makeColors(true).green('x'), '\x1b[32mx\x1b[39m');
  });

  it('redacts hf_ tokens and registered secrets', () => {
    assert.equal(redactTokens('Authorization: Bearer hf_abcdefghijkl123'), 'Authorization: Bearer hf_***');
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    log.addSecret('s3cret-token');
    log.debug('header s3cret-token and hf_ABCDEFGHIJKLMNOP');
    log.info('evil\x1b[2Jname');
    assert.deepEqual(lines, ['debug: header *** and hf_***\n', 'evil\\u001b[2Jname\n']);
  });

  it('redacts the signature of pre-signed URLs (CloudFront and S3 style), keeps the rest', () => {
    assert.equal(
      redactTokens('GET https://cdn-lfs.hf.co/repos/ab/cd/x?response-content-type=a&Expires=1700000000&Policy=eyJ9&Signature=Zm9v~bar&Key-Pair-Id=K2 -> 200'),
      'GET https://cdn-lfs.hf.co/repos/ab/cd/x?response-content-type=a&Expires=***&Policy=***&Signature=***&Key-Pair-Id=*** -> 200',
    );
    assert.equal(
      redactTokens("'https://cas-bridge.xethub.hf.co/x?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F2025&X-Amz-Signature=abc123&x-id=GetObject'"),
      "'https://cas-bridge.xethub.hf.co/x?X-Amz-Algorithm=***&X-Amz-Credential=***&X-Amz-Signature=***&x-id=GetObject'",
    );
  });

  it('levels: quiet keeps notes, hides info and debug', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'quiet', write: (l) => lines.push(l) });
    log.info('i');
    log.debug('d');
    log.warn('w');
    assert.deepEqual(lines, ['note: w\n']);
  });

  it('printable escapes control characters', () => {
    assert.equal(printable('a\nb\tc\u0000'), 'a\\nb\\tc\\u0000');
    assert.equal(printable('ünï 🤗'), 'ünï 🤗');
  });
});
