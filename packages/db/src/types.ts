export type SqlValue =
  | string
  | number
  | boolean
  | null
  | Date
  | Buffer
  | Uint8Array
  | bigint
  | string[]
  | number[]
  | object;

/** What repositories see: parameterised SQL, nothing engine-specific. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    text: string,
    params?: readonly SqlValue[],
  ): Promise<R[]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; throws roll it back. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Migration {
  /** Ordered, unique, never renamed: `0001_users`. */
  id: string;
  up: string | ((q: Queryable) => Promise<void>);
}
