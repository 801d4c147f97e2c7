export { startGateway, type Gateway } from './gateway.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createLogger, type Logger } from './logger.ts';
export { hlsStore, mediaOptions } from './live/media-options.ts';
