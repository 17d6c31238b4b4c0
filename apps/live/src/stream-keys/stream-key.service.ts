import type { Client } from '@neon/kit';
import type { ChannelRepository, ChannelRow, PublishingChannel } from './channel.repository.js';
import {
  type KeySealer,
  generateStreamKey,
  hashStreamKey,
  looksLikeStreamKey,
  sameHash,
} from './stream-key.js';

/** Reads the sealing secret, creating a random one on first start when none is configured. */
export { loadSecretFile as loadKeySecret } from '@neon/kit';

/** Stream keys: one per channel, created on first read, replaced on demand. */
export class StreamKeyService {
  constructor(
    private readonly channels: ChannelRepository,
    private readonly sealer: KeySealer,
  ) {}

  private fresh(): { key: string; hash: Buffer; sealed: string } {
    const key = generateStreamKey();
    return { key, hash: hashStreamKey(key), sealed: this.sealer.seal(key) };
  }

  /** The caller's channel, created with a new key the first time. */
  async channelOf(client: Client): Promise<ChannelRow> {
    const existing = await this.channels.byUserId(client.id);
    if (existing) return existing;
    const f = this.fresh();
    return this.channels.ensure(client.id, client.username, f.hash, f.sealed);
  }

  async read(client: Client): Promise<string> {
    const channel = await this.channelOf(client);
    const key = this.sealer.open(channel.key_sealed);
    if (key !== null) return key;
    // Sealed under a secret this deployment no longer has: the only way forward is a new key.
    return this.regenerate(client);
  }

  async regenerate(client: Client): Promise<string> {
    await this.channelOf(client);
    const f = this.fresh();
    await this.channels.replaceKey(client.id, f.hash, f.sealed);
    return f.key;
  }

  /** The channel a publish name belongs to, or null. The key itself is never logged. */
  async resolve(key: string): Promise<PublishingChannel | null> {
    if (!looksLikeStreamKey(key)) return null;
    const hash = hashStreamKey(key);
    const row = await this.channels.byKeyHash(hash);
    // The lookup is by an index on the hash; the comparison guards against any collation surprise in constant time.
    return row && sameHash(row.key_hash, hash) ? row : null;
  }
}
