import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REDACT_PATHS, redactUrl } from '@neon/kit';

describe('log redaction', () => {
  it('removes secrets from URLs', () => {
    assert.equal(
      redactUrl('/socket/websocket?vsn=2.0.0&token=eyJabc.def&x=1'),
      '/socket/websocket?vsn=2.0.0&token=[REDACTED]&x=1',
    );
    assert.equal(redactUrl('/cb?code=abc&state=s'), '/cb?code=[REDACTED]&state=s');
    assert.equal(redactUrl('/hls/alice/master.m3u8'), '/hls/alice/master.m3u8');
  });

  it('censors credentials in logged objects', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, sink);
    log.info(
      {
        req: { headers: { authorization: 'Bearer secret-token', cookie: 'neon_refresh=abc' } },
        body: { password: 'hunter22', streamKey: 'live_xyz' },
      },
      'x',
    );
    assert.doesNotMatch(out, /secret-token|neon_refresh=abc|hunter22|live_xyz/);
  });
});
