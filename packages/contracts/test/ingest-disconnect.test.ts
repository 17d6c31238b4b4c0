import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IngestDisconnectCode } from '@neon/contracts';

it('lists every ingest disconnect code in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const codes = IngestDisconnectCode.anyOf.map((s) => String(s.const));
  assert.ok(codes.length >= 4, codes.join());
  assert.deepEqual(
    codes.filter((code) => !doc.includes(`\`${code}\``)),
    [],
  );
});
