import { describe, expect, it } from 'vitest';
import { RegisterRequest, UpdateMeRequest } from '@neon/contracts';
import {
  limits,
  validateChatBody,
  validateProfile,
  validateSignup,
  validateTitle,
} from './validation';

describe('validation mirrors the contracts', () => {
  it('reads its limits from the same schemas the services validate with', () => {
    const u = RegisterRequest.properties.username as {
      minLength?: number;
      maxLength?: number;
      pattern?: string;
    };
    expect(limits.username).toEqual({
      minLength: u.minLength,
      maxLength: u.maxLength,
      pattern: u.pattern,
    });
    expect(limits.displayName.maxLength).toBe(
      (UpdateMeRequest.properties.displayName as { maxLength?: number }).maxLength,
    );
    expect(limits.avatarUrl.pattern).toBe('^https?://');
  });

  it('accepts a valid sign-up', () => {
    expect(
      validateSignup({ username: 'new_streamer', email: 'a@b.io', password: '12345678' }),
    ).toEqual({});
  });

  it('holds the profile to display name, bio length and http(s) avatars', () => {
    expect(validateProfile({ displayName: 'Ann', bio: '', avatarUrl: '' })).toEqual({});
    const bad = validateProfile({
      displayName: '  ',
      bio: 'x'.repeat(301),
      avatarUrl: 'javascript:alert(1)',
    });
    expect(Object.keys(bad).sort()).toEqual(['avatarUrl', 'bio', 'displayName']);
    expect(
      validateProfile({ displayName: 'x'.repeat(41), bio: '', avatarUrl: 'https://x.io/a.png' }),
    ).toHaveProperty('displayName');
  });

  it('checks stream titles and chat bodies after trimming', () => {
    expect(validateTitle('   ')).toBeDefined();
    expect(validateTitle('Speedrun')).toBeUndefined();
    expect(validateChatBody(`  ${'a'.repeat(500)}  `)).toBeUndefined();
    expect(validateChatBody('a'.repeat(501))).toMatch(/500/);
  });
});
