// A herald server in its own process, so a test can read its memory (/proc/<pid>/status):
// `node server-child.js <maxOutboundBytes>` starts on a free port without JetStream and prints
// `READY <url>`. The test kills it.
import { Server } from '../../src/index.js';
import { silentLogger } from '../../src/core/log.js';

const maxOutbound = Number(process.argv[2] ?? '-1');
const server = await Server.start({ port: 0, logger: silentLogger(), jetstream: false, maxOutbound });
process.stdout.write(`READY ${server.url}\n`);
