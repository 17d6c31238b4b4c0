import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyAddress, parseIp, type AddressKind } from '../src/eventsub/address.js';
import {
  CallbackRefused,
  parseCallback,
  resolveCallback,
  type Resolve,
} from '../src/eventsub/callback.js';
import { retryDelay } from '../src/eventsub/delivery.worker.js';
import { postWebhook } from '../src/eventsub/sender.js';

describe('the webhook address classifier', () => {
  const cases: [string, AddressKind][] = [
    // IPv4
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['93.184.216.34', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['192.168.1.1', 'private'],
    ['192.169.0.1', 'public'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['203.0.113.5', 'reserved'],
    ['192.0.0.8', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    // Half a bracket names no address (not the address inside it).
    ['[10.0.0.12', 'invalid'],
    ['10.0.0.1]', 'invalid'],
    ['[1.2.3.45', 'invalid'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv4 inside IPv6
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:100.64.1.1', 'shared'],
    ['::ffff:8.8.8.8', 'public'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
    // The deprecated IPv4-compatible form reads as the mapped one: refused all the same.
    ['::127.0.0.1', 'loopback'],
    ['::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['2002:a00:1::1', 'private'],
    ['2002:808:808::1', 'public'],
    // Not addresses
    ['', 'invalid'],
    ['localhost', 'invalid'],
    ['256.0.0.1', 'invalid'],
    ['1.2.3', 'invalid'],
    ['1.2.3.4.5', 'invalid'],
    ['010.0.0.1', 'invalid'],
    ['0x7f.0.0.1', 'invalid'],
    ['1::2::3', 'invalid'],
    ['1:2:3:4:5:6:7:8:9', 'invalid'],
    ['1:2:3:4:5:6:7:8::', 'invalid'],
    ['12345::1', 'invalid'],
    ['::ffff:1.2.3', 'invalid'],
    [':1:2:3:4:5:6:7', 'invalid'],
  ];
  for (const [address, kind] of cases)
    it(`${address || '(empty)'} is ${kind}`, () => assert.equal(classifyAddress(address), kind));

  it('parses the IPv6 shorthands to the same bytes', () => {
    const bytes = (text: string) => parseIp(text)?.toByteArray();
    assert.deepEqual(bytes('::ffff:127.0.0.1'), bytes('0:0:0:0:0:ffff:7f00:0001'));
    assert.deepEqual(bytes('1::'), [0, 1, ...new Array<number>(14).fill(0)]);
    assert.deepEqual(bytes('1:2:3:4:5:6:7::'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]);
    assert.deepEqual(bytes('1:2:3:4:5:6:1.2.3.4')?.slice(12), [1, 2, 3, 4]);
  });
});

describe('webhook callbacks', () => {
  const strict = { allowHttpLoopback: false };
  const dev = { allowHttpLoopback: true };
  const HTTPS = 'must be an https URL';
  const USER_INFO = 'must not carry user info';
  const PORT = 'must have a port from 1 to 65535';
  /** Refused, and the application is told why (the reason is its error's detail). */
  const refused = (raw: string, reason: string, policy = strict) =>
    assert.throws(
      () => parseCallback(raw, policy),
      (err: unknown) => err instanceof CallbackRefused && err.message === reason,
      `${raw}: ${reason}`,
    );

  it('takes https URLs, and http only with the development setting', () => {
    assert.equal(
      parseCallback('https://hooks.example.com/x?y=1', strict).href,
      'https://hooks.example.com/x?y=1',
    );
    assert.equal(parseCallback('https://example.com:8443/', strict).port, '8443');
    refused('http://127.0.0.1:8080/x', HTTPS);
    assert.equal(parseCallback('http://127.0.0.1:8080/x', dev).port, '8080');
    refused('ftp://example.com/x', HTTPS, dev);
    refused('not a url', 'is not a URL');
    refused('/relative', 'is not a URL');
  });

  it('refuses user info, fragments, bad ports and long URLs, each with its reason', () => {
    refused('https://user:pass@example.com/x', USER_INFO);
    refused('https://user@example.com/x', USER_INFO);
    refused('https://@example.com/x', USER_INFO);
    refused('https://:@example.com/x', USER_INFO);
    // Written without the two slashes, or with backslashes, the parser still finds user info.
    refused('https:\\\\user@example.com/x', USER_INFO);
    refused('https:user:pw@example.com/x', USER_INFO);
    refused('https://example.com/x#frag', 'must not have a fragment');
    refused('https://example.com/x#', 'must not have a fragment');
    refused('https://example.com:0/x', PORT);
    refused('https://example.com:65536/x', 'is not a URL');
    assert.equal(parseCallback('https://example.com:1/', strict).port, '1');
    assert.equal(parseCallback('https://example.com:65535/', strict).port, '65535');
    const long = `https://example.com/${'a'.repeat(2048)}`;
    refused(long, 'must be at most 2048 characters');
    assert.equal(parseCallback(long.slice(0, 2048), strict).href.length, 2048);
    // An @ after the authority is a path or query character, even in a URL of its own.
    assert.equal(parseCallback('https://example.com/a@b', strict).hostname, 'example.com');
    assert.equal(
      parseCallback('https:example.com/?next=http://u@v', strict).hostname,
      'example.com',
    );
  });

  it('refuses a name if any of its addresses is not public, and pins one (IPv4 first)', async () => {
    const resolving =
      (...addresses: string[]): Resolve =>
      async () =>
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const url = new URL('https://hooks.example.com/x');
    assert.deepEqual(
      await resolveCallback(url, strict, resolving('2001:4860::1', '8.8.8.8'), 1000),
      { address: '8.8.8.8', family: 4 },
    );
    assert.deepEqual(await resolveCallback(url, strict, resolving('2001:4860::1'), 1000), {
      address: '2001:4860::1',
      family: 6,
    });
    for (const bad of [
      '10.0.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '::1',
      '::ffff:10.0.0.1',
      'fd00::1',
    ])
      await assert.rejects(
        resolveCallback(url, strict, resolving('8.8.8.8', bad), 1000),
        CallbackRefused,
        bad,
      );
    await assert.rejects(resolveCallback(url, strict, resolving(), 1000), CallbackRefused);
    await assert.rejects(
      resolveCallback(url, strict, () => Promise.reject(new Error('ENOTFOUND')), 1000),
      CallbackRefused,
    );
    await assert.rejects(
      resolveCallback(url, strict, () => new Promise(() => undefined), 50),
      /did not resolve within 50 ms/,
    );
    // Literal addresses are judged without a lookup.
    const never: Resolve = () => Promise.reject(new Error('no lookup expected'));
    for (const raw of [
      'https://10.0.0.1/x',
      'https://169.254.169.254/latest',
      'https://[::1]/',
      'https://[::ffff:7f00:1]/',
      'https://0x7f.1/',
    ])
      await assert.rejects(
        resolveCallback(new URL(raw), strict, never, 1000),
        CallbackRefused,
        raw,
      );
    assert.equal(
      (await resolveCallback(new URL('https://8.8.8.8/'), strict, never, 1000)).address,
      '8.8.8.8',
    );
  });

  it('holds a development http callback to loopback only, and https to public only', async () => {
    const resolving =
      (...addresses: string[]): Resolve =>
      async () =>
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const local = new URL('http://localhost:9000/x');
    assert.equal(
      (await resolveCallback(local, dev, resolving('127.0.0.1', '::1'), 1000)).address,
      '127.0.0.1',
    );
    await assert.rejects(
      resolveCallback(local, dev, resolving('127.0.0.1', '10.0.0.1'), 1000),
      CallbackRefused,
    );
    await assert.rejects(resolveCallback(local, dev, resolving('8.8.8.8'), 1000), CallbackRefused);
    await assert.rejects(
      resolveCallback(local, strict, resolving('127.0.0.1'), 1000),
      CallbackRefused,
    );
    await assert.rejects(
      resolveCallback(new URL('https://localhost/x'), dev, resolving('127.0.0.1'), 1000),
      CallbackRefused,
    );
  });

  it('says why an address is refused, naming the address only when the application wrote it', async () => {
    const resolving =
      (...addresses: string[]): Resolve =>
      async () =>
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const never: Resolve = () => Promise.reject(new Error('no lookup expected'));
    const because = async (work: Promise<unknown>, reason: string) =>
      assert.rejects(
        work,
        (err: unknown) => err instanceof CallbackRefused && err.message === reason,
        reason,
      );
    const named = new URL('https://hooks.example.com/x');
    // What an internal name resolves to is not told back, even when it is one address.
    await because(
      resolveCallback(named, strict, resolving('10.0.0.1'), 1000),
      'must resolve to public addresses only',
    );
    await because(
      resolveCallback(new URL('https://10.0.0.1/x'), strict, never, 1000),
      'must be to a public address; this one is private',
    );
    const local = new URL('http://localhost:9000/x');
    await because(
      resolveCallback(local, dev, resolving('8.8.8.8'), 1000),
      'an http callback must resolve to loopback addresses only',
    );
    await because(
      resolveCallback(new URL('http://8.8.8.8/x'), dev, never, 1000),
      'an http callback must be to loopback; this address is public',
    );
    await because(resolveCallback(named, strict, resolving(), 1000), 'host does not resolve');
    await because(
      resolveCallback(named, strict, () => Promise.reject(new Error('ENOTFOUND')), 1000),
      'host does not resolve',
    );
    await because(
      resolveCallback(new URL('ftp://example.com/x'), dev, resolving('127.0.0.1'), 1000),
      'must be an https URL',
    );
    // A literal is connected to as written, in its own family, without brackets.
    assert.deepEqual(await resolveCallback(new URL('https://8.8.8.8/'), strict, never, 1000), {
      address: '8.8.8.8',
      family: 4,
    });
    assert.deepEqual(
      await resolveCallback(new URL('https://[2001:4860:4860::8888]/'), strict, never, 1000),
      { address: '2001:4860:4860::8888', family: 6 },
    );
  });

  it('waits 10 s doubling up to the cap, jittered by at most 20%', () => {
    const exact = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 10, 20, 1000].map((n) => retryDelay(n, 10_000, 3_600_000, exact)),
      [10_000, 20_000, 40_000, 80_000, 3_600_000, 3_600_000, 3_600_000],
    );
    assert.equal(
      retryDelay(1, 10_000, 3_600_000, () => 0),
      8_000,
    );
    assert.equal(
      retryDelay(1, 10_000, 3_600_000, () => 0.999999),
      12_000,
    );
    assert.equal(
      retryDelay(12, 10_000, 3_600_000, () => 0.999999),
      3_600_000,
    );
  });
});

describe('sending a webhook', () => {
  let server: Server;
  let base: URL;
  const pinned = { address: '127.0.0.1', family: 4 as const };
  const hits: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      // Cookies and credentials are never sent.
      if (req.headers.cookie || req.headers.authorization) {
        res.writeHead(400).end();
        return;
      }
      req.resume();
      req.on('end', () => {
        switch (req.url ?? '') {
          case '/ok':
            return res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
          case '/redirect':
            return res.writeHead(302, { location: '/ok' }).end();
          case '/slow':
            return void setTimeout(() => res.writeHead(200).end('late'), 1000);
          case '/huge': {
            res.writeHead(200, { 'content-type': 'text/plain' });
            const chunk = 'x'.repeat(16 * 1024);
            for (let i = 0; i < 8; i++) res.write(chunk);
            return res.end();
          }
          case '/declared':
            return res.writeHead(200, { 'content-length': String(1 << 20) }).end();
          default:
            return res.writeHead(500).end('no');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://localhost:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const post = (path: string, timeoutMs = 500) =>
    postWebhook(new URL(path, base), pinned, '{}', { 'x-test': '1' }, { timeoutMs });

  it('reads a 2xx answer, connecting to the pinned address whatever the name', async () => {
    const r = await post('/ok');
    assert.deepEqual(r, { ok: true, status: 200, body: 'fine' });
  });

  it('does not follow a redirect', async () => {
    hits.length = 0;
    const r = await post('/redirect');
    assert.equal(r.ok, false);
    assert.equal(r.ok ? 0 : r.status, 302);
    assert.deepEqual(hits, ['/redirect']);
  });

  it('gives up on a slow answer at the deadline', async () => {
    const started = Date.now();
    const r = await post('/slow', 300);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /within 300 ms/);
    assert.ok(Date.now() - started < 1000, 'it did not wait for the answer');
  });

  it('stops reading an answer over 64 KiB, streamed or declared', async () => {
    for (const path of ['/huge', '/declared']) {
      const r = await post(path);
      assert.equal(r.ok, false, path);
      assert.match(r.ok ? '' : r.reason, /over 65536 bytes/, path);
    }
  });

  it('fails on an error status and on a refused connection', async () => {
    assert.equal((await post('/missing')).ok, false);
    const closed = await postWebhook(
      new URL('http://localhost:1/'),
      pinned,
      '{}',
      {},
      { timeoutMs: 500 },
    );
    assert.equal(closed.ok, false);
  });
});
