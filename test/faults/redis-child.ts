// A herald in its own process for the Redis crash test: `node redis-child.js <dataDir>` starts the
// Redis door on a free port with the keyspace in <dataDir>/redis (sync: always) and prints
// `READY <redis port>`. The test kills it with SIGKILL; nothing here shuts down cleanly.
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';

const dataDir = process.argv[2];
if (dataDir === undefined) {
  process.stderr.write('usage: redis-child <dataDir>\n');
  process.exit(2);
}
const server = await Server.start({
  port: 0,
  redisPort: 0,
  jetstream: false,
  redisStore: 'file',
  dataDir,
  logger: silentLogger(),
  sync: { kind: 'always' },
});
process.stdout.write(`READY ${server.redis?.port}\n`);
