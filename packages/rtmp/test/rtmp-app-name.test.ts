import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amfObject } from '@neon/rtmp';
import { command, handshake, newSession, serverMessages } from '@neon/rtmp/testing';

function connectTo(app: string, apps?: readonly string[]): ReturnType<typeof newSession> {
  const run = newSession(apps ? { apps } : {});
  run.session.feed(handshake());
  run.session.feed(command(3, 0, 128, 'connect', 1, amfObject({ app })));
  return run;
}

function replies(run: ReturnType<typeof newSession>): unknown[][] {
  return serverMessages(run.sent)
    .filter((m) => m.values)
    .map((m) => m.values!);
}

test('a connect to an application not served gets _error with a description, then the session stops', () => {
  for (const app of ['vod', 'Live', 'live/extra', '', 'live2']) {
    const run = connectTo(app, ['live']);
    assert.equal(run.events.error?.[0]?.code, 'RTMP_APP_REJECTED', app);
    assert.equal(run.session.phase, 'failed');
    assert.equal(run.events.connect, undefined, 'the host never sees the connect');
    const [reply, ...rest] = replies(run);
    assert.equal(rest.length, 0, 'no connect _result, window or bandwidth');
    assert.equal(reply?.[0], '_error');
    assert.equal(reply?.[1], 1, 'the connect transaction');
    const info = reply?.[3] as Record<string, unknown>;
    assert.equal(info.level, 'error');
    assert.equal(info.code, 'NetConnection.Connect.Rejected');
    assert.match(
      String(info.description),
      /Unknown application\. Publish to \/live\/<stream key>\./,
    );
  }
});

test('the served application is accepted as encoders spell it', () => {
  for (const app of ['live', 'live/', 'live?token=1']) {
    const run = connectTo(app, ['live']);
    assert.equal(run.events.error, undefined, app);
    assert.equal(run.events.connect?.[0]?.app, 'live');
    assert.equal(replies(run).at(-1)?.[0], '_result');
  }
});

test('without apps every application name is accepted', () => {
  const run = connectTo('anything');
  assert.equal(run.events.error, undefined);
  assert.equal(run.events.connect?.[0]?.app, 'anything');
});
