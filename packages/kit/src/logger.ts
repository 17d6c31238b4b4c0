import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Query parameters whose values never reach a log line. */
const SECRET_PARAMS =
  /([?&](?:token|access_token|ticket|key|streamKey|code|code_verifier|client_secret)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]');
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'req.headers["x-neon-internal"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.streamKey',
  '*.secret',
  'streamKey',
  'password',
  'token',
];

export interface LoggerConfig {
  level: string;
  pretty?: boolean;
  name?: string;
  /** Where JSON lines go instead of stdout (tests read what was logged). */
  destination?: DestinationStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (req: {
        method?: string;
        url?: string;
        id?: string;
        ip?: string;
        clientIp?: string;
      }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : req.url,
        ip: req.clientIp || req.ip,
      }),
    },
    ...(config.name ? { name: config.name } : {}),
  };
  if (config.pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l' },
      },
    });
  }
  return config.destination ? pino(options, config.destination) : pino(options);
}
