import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

/** Raised when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Spec = Record<string, TSchema>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: Static<S[K]> };

/** Builders for the shapes environment variables take. */
export const env = {
  port: (fallback: number) =>
    Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description: 'a TCP port' }),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    Type.Integer({ minimum: min, maximum: max, default: fallback }),
  string: (fallback: string) => Type.String({ minLength: 1, default: fallback }),
  optionalString: () => Type.Optional(Type.String({ minLength: 1 })),
  url: (fallback?: string) =>
    fallback === undefined
      ? Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9+.-]*://', description: 'a URL' }))
      : Type.String({ pattern: '^[a-z][a-z0-9+.-]*://', default: fallback, description: 'a URL' }),
  /** Comma-separated upstream replicas: `http://a:1,http://b:2`. */
  urlList: () =>
    Type.Optional(
      Type.String({
        pattern: '^https?://[^,\\s]+(,https?://[^,\\s]+)*$',
        description: 'comma-separated http(s) URLs',
      }),
    ),
  bool: (fallback: boolean) => Type.Boolean({ default: fallback }),
  logLevel: () =>
    Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
    ),
};

function describe(schema: TSchema, raw: string): string {
  const what = (schema as { description?: string }).description;
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return what ? `must be ${what} (got "${shown}")` : `is invalid (got "${shown}")`;
}

/**
 * Parses the environment once, against a schema per variable. Empty strings
 * count as unset. Every problem is reported together, each naming its variable.
 */
export function loadConfig<S extends Spec>(spec: S, source: NodeJS.ProcessEnv): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: { variable: string; message: string }[] = [];
  for (const [variable, schema] of Object.entries(spec)) {
    const raw = source[variable];
    const fallback = (schema as { default?: unknown }).default;
    if (raw === undefined || raw === '') {
      if (fallback !== undefined) out[variable] = fallback;
      else if (!isOptional(schema)) problems.push({ variable, message: 'is required' });
      continue;
    }
    const converted = Value.Convert(schema, raw.trim());
    if (Value.Check(schema, converted)) out[variable] = converted;
    else {
      const first = Value.Errors(schema, converted)[0];
      const hint = describe(schema, raw);
      problems.push({
        variable,
        message: first && !hint.startsWith('must') ? `${first.message}` : hint,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

function isOptional(schema: TSchema): boolean {
  return Type.IsOptional(schema);
}

/** Splits a `urlList` value into its replicas. */
export function splitUrls(value: string | undefined): string[] {
  return value ? value.split(',').map((u) => u.trim().replace(/\/+$/, '')) : [];
}
