import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDevice, storedUserAgent, USER_AGENT_MAX } from './user-agent.js';

const UA = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  chromeIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  chromeAndroid:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  samsungAndroid:
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  operaMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0',
  headlessLinux:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
  chromebook:
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
};

test('the common browsers and systems in words', () => {
  assert.equal(describeDevice(UA.chromeWindows), 'Chrome on Windows');
  assert.equal(describeDevice(UA.edgeWindows), 'Edge on Windows');
  assert.equal(describeDevice(UA.firefoxLinux), 'Firefox on Linux');
  assert.equal(describeDevice(UA.safariMac), 'Safari on macOS');
  assert.equal(describeDevice(UA.safariIphone), 'Safari on iPhone');
  assert.equal(describeDevice(UA.chromeIphone), 'Chrome on iPhone');
  assert.equal(describeDevice(UA.chromeAndroid), 'Chrome on Android');
  assert.equal(describeDevice(UA.samsungAndroid), 'Samsung Internet on Android');
  assert.equal(describeDevice(UA.operaMac), 'Opera on macOS');
  assert.equal(describeDevice(UA.headlessLinux), 'Chrome on Linux');
  assert.equal(describeDevice(UA.chromebook), 'Chrome on ChromeOS');
});

test('scripts, unknown agents and none at all', () => {
  assert.equal(describeDevice('curl/8.5.0'), 'A script');
  assert.equal(
    describeDevice('Mozilla/5.0 (Windows NT 10.0) Something/1.0'),
    'A browser on Windows',
  );
  assert.equal(describeDevice('lynx'), 'Unknown device');
  assert.equal(describeDevice(null), 'Unknown device');
});

test('the stored header is trimmed, cut to 512 characters, and null when blank', () => {
  assert.equal(storedUserAgent(undefined), null);
  assert.equal(storedUserAgent('   '), null);
  assert.equal(storedUserAgent(' curl/8 '), 'curl/8');
  assert.equal(storedUserAgent(['a', 'b']), 'a');
  assert.equal(storedUserAgent('x'.repeat(2000))!.length, USER_AGENT_MAX);
});
