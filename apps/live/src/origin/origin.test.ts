import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '@neon/kit';
import { parsePlaylistQuery } from './origin.routes.js';
import { safeJoin } from './static-file.js';
import { contentTypeOf } from './media-types.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
  return undefined;
}

describe('blocking reload directives', () => {
  it('reads _HLS_msn, _HLS_part and _HLS_skip', () => {
    assert.deepEqual(parsePlaylistQuery({}), {});
    assert.deepEqual(parsePlaylistQuery({ _HLS_msn: '12' }), { msn: 12 });
    assert.deepEqual(parsePlaylistQuery({ _HLS_msn: '12', _HLS_part: '0' }), { msn: 12, part: 0 });
    assert.deepEqual(parsePlaylistQuery({ _HLS_skip: 'YES' }), { skip: 'YES' });
    assert.deepEqual(parsePlaylistQuery({ _HLS_skip: 'v2' }), { skip: 'v2' });
  });

  it('answers 400 LIVE_PLAYLIST_REQUEST_INVALID for what the spec forbids', () => {
    for (const q of [
      { _HLS_part: '1' },
      { _HLS_msn: '-1' },
      { _HLS_msn: '1.5' },
      { _HLS_msn: 'abc' },
      { _HLS_msn: '' },
      { _HLS_msn: '1', _HLS_part: 'x' },
      { _HLS_skip: 'NO' },
    ])
      assert.equal(
        code(() => parsePlaylistQuery(q)),
        'LIVE_PLAYLIST_REQUEST_INVALID',
        JSON.stringify(q),
      );
  });
});

describe('files under the media folder', () => {
  it('resolve inside the folder only', () => {
    assert.equal(safeJoin('/m/abc', ['720p', 's1.m4s']), '/m/abc/720p/s1.m4s');
    for (const parts of [
      [],
      ['..', 'x.m3u8'],
      ['720p', '..', '..', 'etc'],
      ['.hidden'],
      ['a/b'],
      ['%2e%2e'],
      [''],
    ])
      assert.equal(safeJoin('/m/abc', parts), null, parts.join('|'));
  });

  it('carry the media types players expect', () => {
    assert.equal(contentTypeOf('index.m3u8'), 'application/vnd.apple.mpegurl');
    assert.equal(contentTypeOf('manifest.mpd'), 'application/dash+xml');
    assert.equal(contentTypeOf('init-0.mp4'), 'video/mp4');
    assert.equal(contentTypeOf('s3.m4s'), 'video/iso.segment');
    assert.equal(contentTypeOf('thumbnail.jpg'), 'image/jpeg');
    assert.equal(contentTypeOf('stream-key.secret'), null);
  });
});
