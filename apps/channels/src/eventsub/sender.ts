import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf } from './callback.js';

/** Most of a callback's answer that is read; a longer one fails the attempt. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export type SendResult =
  { ok: true; status: number; body: string } | { ok: false; reason: string; status?: number };

export interface SendOptions {
  /** Left of the attempt's time: the answer must be read within it. */
  timeoutMs: number;
  maxAnswerBytes?: number;
  /** Ends the attempt early (the service is closing). */
  signal?: AbortSignal;
}

/**
 * POSTs `body` to `url`, connected to `address` (checked by the caller) and
 * never to whatever a fresh lookup might answer: the name stays in the Host
 * header and the TLS server name, so the certificate is checked against it.
 * No cookies, no credentials, no redirects followed (a 3xx fails), no
 * connection reused; the answer is read up to a limit and the socket destroyed
 * past it or past the deadline.
 */
export function postWebhook(
  url: URL,
  pinned: { address: string; family: 4 | 6 },
  body: string,
  headers: Record<string, string>,
  o: SendOptions,
): Promise<SendResult> {
  const max = o.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  const secure = url.protocol === 'https:';
  const host = hostOf(url);
  // Node asks for every address when it may race IPv4 and IPv6 (autoSelectFamily), else one.
  const lookup = ((
    _name: string,
    options: { all?: boolean } | undefined,
    callback: (
      err: Error | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void,
  ) => {
    if (options?.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as LookupFunction;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (!result.ok) req.destroy();
      resolve(result);
    };
    const req = (secure ? httpsRequest : httpRequest)({
      method: 'POST',
      hostname: host,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      lookup,
      agent: false,
      // The certificate must be the name's; Node refuses an IP address as a server name.
      ...(secure && isIP(host) === 0 ? { servername: host } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Neon-Eventsub/1',
        ...headers,
      },
    });
    const timer = setTimeout(
      () => finish({ ok: false, reason: `no complete answer within ${o.timeoutMs} ms` }),
      o.timeoutMs,
    );
    const onAbort = () => finish({ ok: false, reason: 'the service is closing' });
    o.signal?.addEventListener('abort', onAbort);
    if (o.signal?.aborted) onAbort();

    req.on('error', (err) => finish({ ok: false, reason: err.message }));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        finish({ ok: false, status, reason: `answered ${status}: redirects are not followed` });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > max) {
        finish({ ok: false, status, reason: `answer over ${max} bytes` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          finish({ ok: false, status, reason: `answer over ${max} bytes` });
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish({ ok: false, status, reason: err.message }));
      res.on('close', () => {
        if (!res.complete) finish({ ok: false, status, reason: 'the answer was cut off' });
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (status >= 200 && status < 300) finish({ ok: true, status, body: text });
        else finish({ ok: false, status, reason: `answered ${status}` });
      });
    });
    req.end(body);
  });
}
