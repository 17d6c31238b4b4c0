import assert from 'node:assert/strict';
import { test } from 'node:test';
import { passwordChangedMail, passwordResetMail, verifyEmailMail } from './mail-templates.js';
import { backoffMs } from './mail.worker.js';

test('the reset mail links to the web app with the token, in the text and the HTML part', () => {
  const mail = passwordResetMail('https://neon.example', 'ada', 'abc_DEF-123');
  assert.equal(mail.subject, 'Reset your Neon password');
  assert.match(mail.text, /^https:\/\/neon\.example\/reset-password\?token=abc_DEF-123$/m);
  assert.match(mail.text, /within 30 minutes/);
  assert.ok(mail.html.includes('href="https://neon.example/reset-password?token=abc_DEF-123"'));
});

test('the verification mail says how long its link works', () => {
  const mail = verifyEmailMail('http://localhost:8080', 'ada', 'tok');
  assert.match(mail.text, /^http:\/\/localhost:8080\/verify-email\?token=tok$/m);
  assert.match(mail.text, /within 24 hours/);
});

test('what a user chose is escaped in the HTML part', () => {
  const mail = passwordChangedMail('https://neon.example', '<b>ada</b>&"');
  assert.ok(mail.html.includes('Hi &#60;b&#62;ada&#60;/b&#62;&#38;&#34;,'));
  assert.ok(!mail.html.includes('<b>ada'));
  assert.match(mail.text, /^Hi <b>ada<\/b>&",$/m);
});

test('retries back off exponentially from the configured delay, at most an hour', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffMs(n, 30)),
    [30_000, 60_000, 120_000, 240_000],
  );
  assert.equal(backoffMs(20, 30), 3_600_000);
});
