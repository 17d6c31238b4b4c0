import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../src/broadcasts/admission.js';
import type { TranscodeHealth } from '../src/broadcasts/pipeline.js';

const health = (costCores: number | null, saturated = false): TranscodeHealth => ({
  speed: saturated ? 0.7 : 1,
  backlogSeconds: 0,
  activeRungs: ['160p'],
  shedRungs: [],
  costCores,
  saturated,
});

describe('admission of new broadcasts', () => {
  it('is full once the measured cost reaches the capacity', () => {
    const a = new Admission(1.6, 30_000, () => 0);
    assert.equal(a.assess(2, [health(0.7), health(0.8)]).full, false);
    const full = a.assess(3, [health(0.7), health(0.8), health(0.1)]);
    assert.equal(full.full, true);
    assert.equal(full.loadCores, 1.6);
    // Not measured yet counts as nothing.
    assert.equal(a.assess(3, [health(0.7), health(0.8), health(null)]).full, false);
  });

  it('stays full for the hold after a broadcast was behind at its lowest rung, then has room', () => {
    let now = 1_000_000;
    const a = new Admission(1.6, 30_000, () => now);
    const behind = a.assess(12, [health(0.1, true), health(0.1)]);
    assert.deepEqual([behind.full, behind.saturated, behind.saturatedAgoMs], [true, 1, null]);

    // It caught up for a moment: still full, and says since when.
    now += 5_000;
    const calm = a.assess(12, [health(0.1), health(0.1)]);
    assert.deepEqual([calm.full, calm.saturated, calm.saturatedAgoMs], [true, 0, 5_000]);

    // Behind again restarts the hold from then.
    now += 20_000;
    assert.equal(a.assess(12, [health(0.1, true), health(0.1)]).full, true);
    now += 29_999;
    assert.equal(a.assess(12, [health(0.1), health(0.1)]).full, true);
    now += 1;
    const room = a.assess(12, [health(0.1), health(0.1)]);
    assert.deepEqual([room.full, room.saturatedAgoMs], [false, null]);
  });

  it('holds nothing once every broadcast has ended, nor with no hold configured', () => {
    let now = 0;
    const a = new Admission(1.6, 30_000, () => now);
    a.assess(1, [health(0.2, true)]);
    now += 1000;
    assert.equal(a.assess(0, []).full, false);
    const none = new Admission(1.6, 0, () => now);
    none.assess(1, [health(0.2, true)]);
    assert.equal(none.assess(1, [health(0.2)]).full, false);
  });
});
