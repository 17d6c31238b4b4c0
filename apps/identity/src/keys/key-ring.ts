import { generateKeyPair, randomBytes, type KeyObject, createPrivateKey } from 'node:crypto';
import { promisify } from 'node:util';
import type { Db } from '@neon/db';
import type { Logger } from '@neon/kit';
import type { JWK } from 'jose';
import { decryptPrivateKey, encryptPrivateKey, wrappingKey } from '../domain/key-crypto.js';
import {
  currentKey,
  isPublished,
  nextActivation,
  type ScheduleRules,
} from '../domain/key-schedule.js';
import {
  deleteKeys,
  encryptStoredKey,
  insertKey,
  listKeys,
  lockSchedule,
  type SigningKeyRow,
} from './signing-key.repository.js';

const generate = promisify(generateKeyPair);

export interface LoadedKey {
  kid: string;
  activatesAt: number;
  publicJwk: JWK;
  privateKey: KeyObject;
}

export interface KeyRingOptions {
  db: Db;
  logger: Logger;
  rules: ScheduleRules;
  /** SIGNING_KEY_SECRET or the embedded shape's key file; without it keys are stored in clear. */
  secret: string | undefined;
  now?: () => number;
}

/**
 * The service's RS256 signing keys: the schedule lives in the database (so
 * any number of replicas agree on it), each replica keeps the decrypted keys
 * in memory and refreshes them on a timer short enough that a replica never
 * signs with a key for long after its successor took over.
 */
export class KeyRing {
  private keys: LoadedKey[] = [];
  private readonly wrap: Buffer | null;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: KeyRingOptions) {
    this.wrap = options.secret ? wrappingKey(options.secret) : null;
    this.now = options.now ?? Date.now;
  }

  /** How often each replica reconciles: a quarter of the rotation, between 250 ms and 30 s. */
  get tickMs(): number {
    return Math.min(Math.max(this.options.rules.rotationMs / 4, 250), 30_000);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.maintain().catch((err: unknown) =>
        this.options.logger.error({ err }, 'signing key maintenance failed'),
      );
    }, this.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Creates what the schedule lacks, drops keys nothing can verify against any more, reloads. */
  maintain(): Promise<void> {
    this.running ??= this.reconcile().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reconcile(): Promise<void> {
    const { db, rules, logger } = this.options;
    const rows = await listKeys(db);
    const now = this.now();
    const schedule = rows.map((r) => ({ kid: r.kid, activatesAt: r.activates_at.getTime() }));
    const stale = schedule.filter((k) => !isPublished(schedule, k.kid, now, rules));
    const needsKey = nextActivation(schedule, now, rules) !== null;
    // Keys stored in clear before a secret existed are sealed now, under the same kid.
    const wrap = this.wrap;
    const clear = wrap ? rows.filter((r) => !r.encrypted) : [];
    if (wrap && clear.length > 0) {
      await db.tx(async (q) => {
        for (const r of clear)
          await encryptStoredKey(q, r.kid, encryptPrivateKey(wrap, r.kid, r.private_key));
      });
      logger.info(
        { kids: clear.map((r) => r.kid) },
        'signing keys stored in clear are now encrypted',
      );
    }
    if (needsKey || stale.length > 0) {
      // Generated outside the transaction: RSA generation is slow and PGlite has one connection.
      const spare = needsKey ? await this.newKeyPair() : null;
      await db.tx(async (q) => {
        await lockSchedule(q);
        let current = (await listKeys(q)).map((r) => ({
          kid: r.kid,
          activatesAt: r.activates_at.getTime(),
        }));
        const at = this.now();
        let pair: Awaited<ReturnType<KeyRing['newKeyPair']>> | null = spare;
        for (let i = 0; i < 2; i++) {
          const activation = nextActivation(current, at, rules);
          if (activation === null) break;
          const made = pair ?? (await this.newKeyPair());
          pair = null;
          await insertKey(q, { ...made, activatesAt: new Date(activation) });
          current = [...current, { kid: made.kid, activatesAt: activation }];
          logger.info({ kid: made.kid, activatesAt: new Date(activation) }, 'signing key created');
        }
        const expired = current
          .filter((k) => !isPublished(current, k.kid, at, rules))
          .map((k) => k.kid);
        if (expired.length > 0) {
          await deleteKeys(q, expired);
          logger.info({ kids: expired }, 'retired signing keys removed');
        }
      });
    }
    this.keys = (await listKeys(db)).map((r) => this.load(r));
  }

  private async newKeyPair() {
    const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048 });
    const kid = randomBytes(12).toString('base64url');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    return {
      kid,
      publicJwk: { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' } as JWK,
      privateKey: this.wrap ? encryptPrivateKey(this.wrap, kid, pem) : pem,
      encrypted: this.wrap !== null,
    };
  }

  private load(row: SigningKeyRow): LoadedKey {
    let pem = row.private_key;
    if (row.encrypted) {
      if (!this.wrap) {
        throw new Error(
          `signing key ${row.kid} is encrypted but SIGNING_KEY_SECRET is not set; set the secret it was stored with`,
        );
      }
      pem = decryptPrivateKey(this.wrap, row.kid, row.private_key);
    }
    return {
      kid: row.kid,
      activatesAt: row.activates_at.getTime(),
      publicJwk: row.public_jwk,
      privateKey: createPrivateKey(pem),
    };
  }

  /** The key to sign with now. */
  async signer(): Promise<LoadedKey> {
    let key = currentKey(this.keys, this.now());
    if (!key) {
      await this.maintain();
      key = currentKey(this.keys, this.now());
    }
    if (!key) throw new Error('no signing key is active');
    return key;
  }

  /** The public keys verifiers need now, read from the database so every replica answers alike. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = await listKeys(this.options.db);
    const now = this.now();
    const schedule = rows.map((r) => ({ kid: r.kid, activatesAt: r.activates_at.getTime() }));
    return {
      keys: rows
        .filter((r) => isPublished(schedule, r.kid, now, this.options.rules))
        .map((r) => r.public_jwk),
    };
  }
}
