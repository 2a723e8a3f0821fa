export { startServer, type ServeOptions, type RunningServer } from './server.js';
export { createLogger, type LogLevel } from './logger.js';
export { SqliteStore } from './store.js';
export { loadSecrets } from './secret.js';
export { SqliteProjectStore } from './project-store.js';
export { RELAY_DEFAULTS, type RelayOptions } from './turn/config.js';
export { parsePortRange } from './turn/relay-ports.js';
export { ListenError, type Listener } from './listen-error.js';
