import { errorStatus, type ErrorCode } from '@neon/contracts';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one error type domain code throws: a stable code (see docs/errors.md),
 * a human detail, and an optional cause. The HTTP status is derived from the
 * code, never chosen at the throw site.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown; errors?: FieldError[]; headers?: Record<string, string> },
  ) {
    super(detail ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = errorStatus[code];
    this.errors = options?.errors;
    this.headers = options?.headers;
  }
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

const titles: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return titles[status] ?? 'Error';
}

export function problemType(code: string): string {
  return `urn:neon:error:${code}`;
}
