export { startGateway, type Gateway } from './gateway.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
