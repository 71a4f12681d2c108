/**
 * herald's embedding API:
 *
 *   import { Server } from 'herald';
 *   const server = await Server.start({ port: 0, jetstream: false });
 *   // connect any NATS client to server.url …
 *   await server.close();
 */
export { Server, type StartOptions } from './server.js';
export { DEFAULT_OPTIONS, type ServerOptions } from './config/options.js';
export type { SyncPolicy } from './store/store.js';
export type { Logger } from './core/log.js';
export { createLogger, silentLogger } from './core/log.js';
export { HERALD_VERSION } from './version.js';
