import { describe, expect, it } from 'vitest';
import { fieldsByRow } from '../api/errors';
import { oauthAppLimits, validateOAuthApp } from '../validation';
import { consentBody, requestProblem, scopeWords } from './authorize-request';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('the authorization request as the consent screen reads it', () => {
  it('answers with the request’s own parameters only, the first of each', () => {
    const search = new URLSearchParams([
      ['response_type', 'code'],
      ['client_id', 'abc'],
      ['redirect_uri', 'https://a.example/cb?x=1'],
      ['state', 'a b&c'],
      ['state', 'second'],
      ['prompt', 'consent'],
      ['nonce', 'n'],
    ]).toString();
    expect(consentBody(search, false)).toEqual({
      allowed: false,
      response_type: 'code',
      client_id: 'abc',
      redirect_uri: 'https://a.example/cb?x=1',
      state: 'a b&c',
    });
  });

  it('asks for the code flow with PKCE S256, as the server does', () => {
    const ok = `response_type=code&code_challenge=${CHALLENGE}&code_challenge_method=S256`;
    expect(requestProblem(ok)).toBeNull();
    expect(requestProblem(ok.replace('S256', 'plain'))).toMatch(/S256/);
    expect(requestProblem(ok.replace('=code', '=token'))).toMatch(/response_type=code/);
    expect(requestProblem(ok.replace(CHALLENGE, `${CHALLENGE}=`))).toMatch(/43 characters/);
    expect(requestProblem('response_type=code&code_challenge_method=S256')).toMatch(/PKCE/);
  });

  it('says scopes in words, and an unknown one as it is', () => {
    expect(scopeWords('user:read:email')).toBe('See your email address');
    expect(scopeWords('made:up')).toBe('made:up');
  });
});

describe('the application form', () => {
  it('wants a name and at least one well-formed redirect URI, by row', () => {
    expect(validateOAuthApp({ name: ' ', redirectUris: ['', ' '] })).toEqual({
      name: 'Give the application a name.',
      redirectUris: 'Add at least one redirect URI.',
    });
    expect(
      validateOAuthApp({
        name: 'x'.repeat((oauthAppLimits.name.maxLength ?? 60) + 1),
        redirectUris: [
          '',
          'nope',
          'ftp://a.example/x',
          'https://a.example/#top',
          'https://ok.example/cb',
        ],
      }),
    ).toEqual({
      name: `Name can have at most ${oauthAppLimits.name.maxLength} characters.`,
      'redirectUris.1': 'Redirect URI 2 must be a full address, like https://example.com/callback.',
      'redirectUris.2':
        'Redirect URI 3 must start with https:// (or http:// for 127.0.0.1, [::1] or localhost).',
      'redirectUris.3': 'Redirect URI 4 must not have a #fragment.',
    });
    expect(
      validateOAuthApp({
        name: 'ok',
        redirectUris: Array.from(
          { length: oauthAppLimits.redirectUris + 1 },
          (_, i) => `https://a.example/${i}`,
        ),
      }),
    ).toEqual({ redirectUris: `Use at most ${oauthAppLimits.redirectUris} redirect URIs.` });
  });

  it('moves the server’s item errors to the rows they were sent from', () => {
    expect(
      fieldsByRow(
        { 'redirectUris.1': 'bad', redirectUris: 'bad', name: 'blank' },
        'redirectUris',
        [0, 2],
      ),
    ).toEqual({ 'redirectUris.2': 'bad', redirectUris: 'bad', name: 'blank' });
  });
});
