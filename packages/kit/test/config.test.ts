import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Type from 'typebox';
import { ConfigError, env, loadConfig, splitUrls } from '@neon/kit';

const spec = {
  GATEWAY_PORT: env.port(8080),
  LOG_LEVEL: env.logLevel(),
  NATS_URL: env.url(),
  IDENTITY_URL: env.urlList(),
  VERBOSE: env.bool(false),
  NAME: env.string('neon'),
};

describe('loadConfig', () => {
  it('applies defaults when variables are unset or empty', () => {
    const c = loadConfig(spec, { GATEWAY_PORT: '' });
    assert.deepEqual(c, { GATEWAY_PORT: 8080, LOG_LEVEL: 'info', VERBOSE: false, NAME: 'neon' });
  });

  it('converts strings to the declared types', () => {
    const c = loadConfig(spec, {
      GATEWAY_PORT: '9090',
      VERBOSE: 'true',
      NATS_URL: 'nats://127.0.0.1:4222',
    });
    assert.equal(c.GATEWAY_PORT, 9090);
    assert.equal(c.VERBOSE, true);
    assert.equal(c.NATS_URL, 'nats://127.0.0.1:4222');
  });

  it('fails naming the variable for a bad value', () => {
    assert.throws(
      () => loadConfig(spec, { GATEWAY_PORT: 'abc' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 1 &&
        err.problems[0]!.variable === 'GATEWAY_PORT' &&
        /GATEWAY_PORT/.test(err.message),
    );
  });

  it('reports every bad variable at once', () => {
    assert.throws(
      () =>
        loadConfig(spec, {
          GATEWAY_PORT: '70000',
          LOG_LEVEL: 'loud',
          IDENTITY_URL: 'http://a,ftp://b',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems
          .map((p) => p.variable)
          .sort()
          .join() === 'GATEWAY_PORT,IDENTITY_URL,LOG_LEVEL',
    );
  });

  it('requires variables that have no default and are not optional', () => {
    assert.throws(
      () => loadConfig({ SECRET: Type.String({ minLength: 1 }) }, {}),
      (err: unknown) => err instanceof ConfigError && err.problems[0]!.message === 'is required',
    );
  });

  it('splits replica lists', () => {
    assert.deepEqual(splitUrls('http://a:1/, http://b:2'), ['http://a:1', 'http://b:2']);
    assert.deepEqual(splitUrls(undefined), []);
  });
});
