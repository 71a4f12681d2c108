// A herald server in its own process for the crash test: `node crash-child.js <dataDir>` starts
// on a free port with JetStream (sync: always) and prints `READY <url>` once it accepts clients.
// The test kills it with SIGKILL; nothing here tries to shut down cleanly.
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';

const dataDir = process.argv[2];
if (dataDir === undefined) {
  process.stderr.write('usage: crash-child <dataDir>\n');
  process.exit(2);
}
const server = await Server.start({ port: 0, dataDir, logger: silentLogger(), sync: { kind: 'always' } });
process.stdout.write(`READY ${server.url}\n`);
