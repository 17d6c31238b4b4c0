import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DrainLoop } from '../src/drain-loop.js';

describe('DrainLoop', () => {
  it('folds kicks during a pass into one more pass, never two at once', async () => {
    let passes = 0;
    let concurrent = 0;
    let release: () => void = () => undefined;
    const loop = new DrainLoop({
      pass: async () => {
        passes += 1;
        concurrent += 1;
        assert.equal(concurrent, 1, 'one pass at a time');
        if (passes === 1) await new Promise<void>((r) => (release = r));
        concurrent -= 1;
      },
      intervalMs: 60_000,
      onError: (err) => assert.fail(String(err)),
    });
    const first = loop.drain();
    loop.kick();
    loop.kick();
    const waited = loop.drain();
    release();
    await Promise.all([first, waited]);
    assert.equal(passes, 2, 'three kicks during the first pass make one more pass');
    await loop.drain();
    assert.equal(passes, 3);
  });

  it('reports a failed pass and runs again on the next kick; stop waits for the pass under way', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let finished = false;
    const loop = new DrainLoop({
      pass: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database gone');
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
      intervalMs: 60_000,
      onError: (err) => errors.push(err),
    });
    loop.kick();
    await new Promise((r) => setImmediate(r));
    assert.equal((errors[0] as Error).message, 'database gone');
    loop.start();
    await loop.stop();
    assert.equal(finished, true, 'stop resolved after the pass it found under way');
  });
});
