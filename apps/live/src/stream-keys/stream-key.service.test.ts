import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeySecret } from './stream-key.service.js';

describe('the secret that seals stream keys', () => {
  it('is the configured one when given, and nothing is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neon-key-secret-'));
    try {
      const file = join(dir, 'secret');
      assert.equal(loadKeySecret('configured secret', file), 'configured secret');
      assert.throws(() => statSync(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is created once, readable by its owner only, and the same on every later start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neon-key-secret-'));
    try {
      const file = join(dir, 'nested', 'deeper', 'secret');
      const first = loadKeySecret(undefined, file);
      assert.match(first, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(readFileSync(file, 'utf8'), `${first}\n`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(loadKeySecret(undefined, file), first);
      assert.equal(loadKeySecret('', file), first);
      // A secret an operator wrote by hand, with surrounding blanks.
      writeFileSync(file, '  hand written  \n');
      assert.equal(loadKeySecret(undefined, file), 'hand written');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
