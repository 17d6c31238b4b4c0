import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7, uuidv7Time } from '@neon/contracts';

describe('uuidv7', () => {
  it('is a version-7 UUID, sorted by creation, carrying its time', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7());
    assert.ok(
      ids.every((id) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id),
      ),
    );
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(Math.abs(uuidv7Time(ids[0]!) - Date.now()) < 5000);
  });

  // Last in this file: a later time moves this process's clock for the ids after it.
  it('stamps the time it is given, to the millisecond', () => {
    const at = Date.UTC(2031, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(at);
    assert.equal(uuidv7Time(id), at);
    assert.equal(
      id.slice(0, 13),
      `${at.toString(16).padStart(12, '0').slice(0, 8)}-${at.toString(16).padStart(12, '0').slice(8)}`,
    );
  });
});
