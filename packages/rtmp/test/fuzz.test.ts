import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzRtmp } from '@neon/rtmp/testing';

test('100,000 mutated inputs: nothing thrown, buffers within limits, every path reached', () => {
  const report = fuzzRtmp({ iterations: 100_000, seed: 20261121 });
  assert.equal(report.inputs, 100_000);
  assert.equal(report.thrown, 0, report.firstFailure?.reason);
  assert.equal(report.overLimit, 0, report.firstFailure?.reason);
  // The mutations must reach deep states, not die at the first byte.
  assert.ok(report.published > 10_000, `published: ${report.published}`);
  assert.ok(report.withMedia > 10_000, `with media: ${report.withMedia}`);
  for (const code of [
    'ok',
    'RTMP_CHUNK_SIZE_INVALID',
    'RTMP_AMF_TOO_DEEP',
    'RTMP_AMF_INVALID',
    'RTMP_CHUNK_HEADER_INVALID',
    'RTMP_MESSAGE_TOO_LARGE',
    'RTMP_COMMAND_INVALID',
    'RTMP_TOO_MANY_CHUNK_STREAMS',
    'RTMP_AMF_TOO_MANY_ELEMENTS',
  ] as const) {
    assert.ok((report.outcomes[code] ?? 0) > 0, `no input ended in ${code}`);
  }
});
