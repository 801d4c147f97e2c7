import { ConfigError, loadConfig, type Config } from './config.ts';
import { startGateway } from './gateway.ts';
import { createLogger } from './logger.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.LOG_LEVEL);
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));

try {
  const gateway = await startGateway(config, { log });
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'draining');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'flock gateway failed to start');
  process.exit(1);
}
