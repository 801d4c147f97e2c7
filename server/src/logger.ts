import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'flock-gateway', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never let credentials reach the logs.
    redact: ['req.headers.authorization', '*.password', '*.refreshToken', '*.accessToken'],
  });
}
