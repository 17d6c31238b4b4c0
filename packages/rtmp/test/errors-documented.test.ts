import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rtmpErrorCodes } from '@neon/rtmp';

it('lists every RTMP error code in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const missing = [...rtmpErrorCodes].filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
