import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { LiveConfig } from '../config.js';

/** A file read back from the bucket. */
export interface StoredObject {
  body: Uint8Array;
  contentType: string | null;
}

/**
 * Recordings in an S3-compatible bucket, under `<prefix>videos/<id>/`. The
 * files are small (segments of a few seconds, playlists, one thumbnail), so
 * each is put and read whole.
 */
export class ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(o: {
    bucket: string;
    region: string;
    endpoint?: string | undefined;
    forcePathStyle?: boolean;
    prefix?: string | undefined;
    credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  }) {
    this.bucket = o.bucket;
    this.prefix = o.prefix ?? '';
    this.client = new S3Client({
      region: o.region,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle ?? false,
      ...(o.credentials ? { credentials: o.credentials } : {}),
      // A failed upload is retried by the uploader's next pass; a viewer's read is not held up by backoff.
      maxAttempts: 2,
    });
  }

  /** The store the configuration names, or null when recordings stay on the local disk. */
  static fromConfig(config: LiveConfig): ObjectStore | null {
    if (!config.S3_BUCKET) return null;
    if (!config.S3_ACCESS_KEY_ID !== !config.S3_SECRET_ACCESS_KEY)
      throw new Error('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all');
    return new ObjectStore({
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      prefix: config.S3_PREFIX,
      credentials:
        config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
          ? {
              accessKeyId: config.S3_ACCESS_KEY_ID,
              secretAccessKey: config.S3_SECRET_ACCESS_KEY,
            }
          : undefined,
    });
  }

  /** The key of a file of a video; `path` is relative to the video's folder, `/`-separated. */
  key(videoId: string, path: string): string {
    return `${this.prefix}videos/${videoId}/${path}`;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
      }),
    );
  }

  /** The object, or null when there is none. */
  async get(key: string, signal?: AbortSignal): Promise<StoredObject | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
        signal ? { abortSignal: signal } : {},
      );
      if (!out.Body) return null;
      return { body: await out.Body.transformToByteArray(), contentType: out.ContentType ?? null };
    } catch (err) {
      if (err instanceof NoSuchKey) return null;
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return null;
      throw err;
    }
  }

  /** A video's objects: each path under its folder, with its size in bytes. */
  async listVideo(videoId: string): Promise<Map<string, number>> {
    const prefix = this.key(videoId, '');
    const out = new Map<string, number>();
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key && o.Size !== undefined) out.set(o.Key.slice(prefix.length), o.Size);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Deletes every object of a video; resolves with how many there were. */
  async deleteVideo(videoId: string): Promise<number> {
    const prefix = this.key(videoId, '');
    let deleted = 0;
    for (;;) {
      // Always the first page: each round deletes what the last listed.
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1000 }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) return deleted;
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0)
        throw new Error(
          `could not delete ${failed.length} objects of video ${videoId}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`,
        );
      deleted += keys.length;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
