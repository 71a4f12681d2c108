import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invocationOf, parseCommandLine, usage } from '../../src/cli/args.js';
import { ConfigError } from '../../src/config/errors.js';
import { NO_ACCOUNTS } from '../../src/core/accounts.js';
import { NO_AUTH } from '../../src/core/auth.js';
import { DEFAULT_OPTIONS, UNLIMITED_CONNECTIONS } from '../../src/config/options.js';

const herald = (...argv: string[]) => parseCommandLine(argv, 'herald');
const nats = (...argv: string[]) => parseCommandLine(argv, 'nats-server');

function fails(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Runs `fn` with a temp dir holding `files`, removed afterwards. */
function withFiles(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'herald-args-'));
  try {
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- herald ----

test('herald with no arguments serves with the defaults', () => {
  const c = herald();
  assert.equal(c.command, 'serve');
  assert.deepEqual(c.options, { ...DEFAULT_OPTIONS, sync: { kind: 'always' } });
  assert.deepEqual(c.warnings, []);
  assert.deepEqual(c.rest, []);
  assert.equal(herald('serve').command, 'serve');
  assert.equal(herald('--port', '5000').options.port, 5000);
});

test('herald commands: help, version, bench with its arguments', () => {
  assert.equal(herald('help').command, 'help');
  assert.equal(herald('version').command, 'version');
  assert.equal(herald('--help').command, 'help');
  assert.equal(herald('-h').command, 'help');
  assert.equal(herald('serve', '--help').command, 'help');
  assert.equal(herald('--version').command, 'version');
  assert.equal(herald('serve', '-v').command, 'version');
  const b = herald('bench', '--runs', '3', 'pubsub');
  assert.equal(b.command, 'bench');
  assert.deepEqual(b.rest, ['--runs', '3', 'pubsub']);
  // help short-circuits before a bad config file is read
  assert.equal(herald('--config', '/nonexistent.conf', '--help').command, 'help');
});

test('every herald flag sets its option', () => {
  const o = herald(
    'serve',
    '--host',
    '0.0.0.0',
    '--port',
    '4333',
    '--http-host',
    '127.0.0.2',
    '--http-port',
    '9000',
    '--redis-port',
    '6380',
    '--redis-store',
    'memory',
    '--server-name',
    'n1',
    '--ports-file-dir',
    '/tmp/p',
    '--data',
    '/d',
    '--no-jetstream',
    '--sync',
    '200ms',
    '--max-file-store',
    '1GB',
    '--max-mem-store',
    '-1',
    '--max-payload',
    '2MB',
    '--max-pending',
    '128mb',
    '--max-connections',
    '10',
    '--max-subs',
    '50',
    '--max-control-line',
    '8KB',
    '--ping-interval',
    '30s',
    '--max-pings-out',
    '5',
    '--auth-timeout',
    '500ms',
    '--write-deadline',
    '1m',
    '--log-level',
    'debug',
    '--log-format',
    'json',
  ).options;
  assert.deepEqual(o, {
    host: '0.0.0.0',
    port: 4333,
    httpHost: '127.0.0.2',
    httpPort: 9000,
    dataDir: '/d',
    jetstream: false,
    maxPayload: 2 * 1024 * 1024,
    maxPending: 128 * 1024 * 1024,
    maxOutbound: -1,
    maxConnections: 10,
    maxSubs: 50,
    maxControlLine: 8192,
    pingIntervalMs: 30_000,
    maxPingsOut: 5,
    authTimeoutMs: 500,
    writeDeadlineMs: 60_000,
    sync: { kind: 'interval', ms: 200 },
    maxFileStore: 1024 ** 3,
    maxMemStore: -1,
    portsFileDir: '/tmp/p',
    serverName: 'n1',
    logLevel: 'debug',
    logFormat: 'json',
    redisPort: 6380,
    redisStore: 'memory',
    auth: NO_AUTH,
    tls: null,
    httpsPort: null,
    redisTls: null,
    accounts: NO_ACCOUNTS,
    // No flags: set in a config file (lame_duck_duration, lame_duck_grace_period).
    lameDuckDurationMs: 120_000,
    lameDuckGracePeriodMs: 10_000,
  });
});

test('herald flag spellings: --flag=value, -p, -c, underscores, --data-dir, switches with =', () => {
  assert.equal(herald('--port=4001').options.port, 4001);
  assert.equal(herald('-p', '4002').options.port, 4002);
  assert.equal(herald('--max_payload', '1KB').options.maxPayload, 1024);
  assert.equal(herald('--data-dir', '/x').options.dataDir, '/x');
  assert.equal(herald('--jetstream=false').options.jetstream, false);
  assert.equal(herald('--no-jetstream', '--jetstream').options.jetstream, true);
  assert.equal(herald('--port', '1', '--port', '2').options.port, 2);
});

test('herald ports: 0 and -1 are random, off turns optional listeners off', () => {
  assert.equal(herald('--port', '0').options.port, 0);
  assert.equal(herald('--port', '-1').options.port, 0);
  assert.equal(herald('--http-port', '0').options.httpPort, 0);
  assert.equal(herald('--http-port', '-1').options.httpPort, 0);
  assert.equal(herald('--http-port', 'off').options.httpPort, null);
  assert.equal(herald('--redis-port', 'none').options.redisPort, null);
  assert.equal(herald('--max-connections', '0').options.maxConnections, UNLIMITED_CONNECTIONS);
  assert.deepEqual(herald('--sync', 'never').options.sync, { kind: 'never' });
  assert.deepEqual(herald('--sync', 'ALWAYS').options.sync, { kind: 'always' });
});

test('flags override the config file; the config overrides defaults', () => {
  withFiles({ 'h.conf': 'port: 4100\nhttp_port: 8100\nmax_payload: 2MB\ndata_dir: /from-conf\nlog_file: /x\n' }, (dir) => {
    const c = herald('serve', '--config', join(dir, 'h.conf'), '--port', '4200', '--data', '/from-flag');
    assert.equal(c.options.port, 4200);
    assert.equal(c.options.httpPort, 8100);
    assert.equal(c.options.maxPayload, 2 * 1024 * 1024);
    assert.equal(c.options.dataDir, '/from-flag');
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /h\.conf:5:1: 'log_file' is ignored/);
    // order on the command line does not matter: flags still win over the file
    assert.equal(herald('--port', '4300', '-c', join(dir, 'h.conf')).options.port, 4300);
  });
});

test('herald errors: unknown flag with hint, bad values, missing values, stray arguments, unknown commands', () => {
  fails(() => herald('--prot', '1'), /unknown flag '--prot' \(did you mean '--port'\?\); run 'herald --help' to see every flag/);
  fails(() => herald('--bogus'), /^unknown flag '--bogus'; run 'herald --help'/);
  fails(() => herald('-port', '1'), /unknown flag '-port'/);
  fails(() => herald('--port', 'abc'), /^--port: expected a port from 1 to 65535, or 0\/-1 for a random port, got "abc"$/);
  fails(() => herald('--port', '70000'), /--port: expected/);
  fails(
    () => herald('--http-port', 'maybe'),
    /--http-port: expected a port from 1 to 65535, 0\/-1 for a random port, or off, got "maybe"/,
  );
  fails(() => herald('--redis-port', '1.5'), /--redis-port/);
  fails(() => herald('--host', ''), /--host: expected a host name/);
  fails(
    () => herald('--max-payload', 'lots'),
    /--max-payload: expected a size from 1 byte to 2147483647 \(e\.g\. 1048576, 512KB or 8MB\), got "lots"/,
  );
  fails(() => herald('--max-payload', '0'), /--max-payload/);
  fails(() => herald('--max-pending', '1XB'), /--max-pending/);
  fails(() => herald('--max-connections', '-1'), /--max-connections: expected a whole number, 0 for unlimited/);
  fails(() => herald('--max-control-line', '4GB'), /--max-control-line/);
  fails(() => herald('--max-file-store', '-2'), /--max-file-store: expected a size/);
  fails(() => herald('--max-mem-store', 'x'), /--max-mem-store/);
  fails(() => herald('--ping-interval', '30'), /--ping-interval: expected a duration such as 500ms, 30s, 2m or 1h30m, got "30"/);
  fails(() => herald('--auth-timeout', '0s'), /--auth-timeout/);
  fails(() => herald('--write-deadline', 'soon'), /--write-deadline/);
  fails(() => herald('--max-pings-out', 'x'), /--max-pings-out/);
  fails(
    () => herald('--sync', 'sometimes'),
    /--sync: expected 'always', 'never' or an interval such as 200ms or 1s, got "sometimes"/,
  );
  fails(
    () => herald('--log-level', 'loud'),
    /--log-level: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"/,
  );
  fails(() => herald('--log-format', 'xml'), /--log-format: expected one of pretty, json/);
  fails(() => herald('--server-name', 'a b'), /--server-name: expected a name without spaces/);
  fails(() => herald('--data', ''), /--data: expected a directory path/);
  fails(() => herald('--ports-file-dir', ' '), /--ports-file-dir/);
  fails(() => herald('--jetstream=perhaps'), /--jetstream: expected true or false, got "perhaps"/);
  fails(() => herald('--port'), /^--port needs a value \(PORT\)$/);
  fails(() => herald('--config', '--port', '1'), /^--config needs a value \(FILE\)$/);
  assert.equal(herald('--port', '-1').options.port, 0);
  fails(() => herald('serve', 'extra'), /unexpected argument 'extra': 'herald serve' takes only flags/);
  fails(() => herald('serv'), /unknown command 'serv' \(did you mean 'serve'\?\); commands are serve, bench, help, version/);
  fails(() => herald('--config', ''), /config file name is empty/);
  fails(() => herald('--config', '/nonexistent/h.conf'), /cannot read config file '\/nonexistent\/h\.conf': no such file/);
  fails(
    () => herald('--max-payload', '2MB', '--max-pending', '1MB'),
    /max_payload \(2097152\) cannot be higher than max_pending \(1048576\)/,
  );
  fails(() => herald('--port', '6379', '--redis-port', '6379'), /port and redis_port are both 6379/);
});

test('config errors surface through the command line with the file location', () => {
  withFiles({ 'bad.conf': 'port: 1\nport: [' }, (dir) => {
    fails(() => herald('-c', join(dir, 'bad.conf')), /bad\.conf:2:8: expected '\]' to close the array/);
  });
  withFiles({ 'bad.conf': 'tls {}\n' }, (dir) => {
    fails(() => nats('-c', join(dir, 'bad.conf')), /bad\.conf:1:1: tls: a server needs 'cert_file' and 'key_file'/);
  });
});

test('large payload produces a warning, not an error', () => {
  const c = herald('--max-payload', '16MB');
  assert.equal(c.options.maxPayload, 16 * 1024 * 1024);
  assert.equal(c.warnings.length, 1);
});

// ---- nats-server ----

test('nats-server defaults: no JetStream, no monitoring, fresh temp data dir, loopback', () => {
  const c = nats();
  assert.equal(c.command, 'serve');
  assert.equal(c.options.jetstream, false);
  assert.equal(c.options.httpPort, null);
  assert.equal(c.options.host, '127.0.0.1');
  assert.equal(c.options.port, 4222);
  assert.ok(c.options.dataDir.startsWith(tmpdir()));
});

test('nats-server: the launcher command line `nats-server -c <conf>`', () => {
  const conf =
    'host: 127.0.0.1\nport: -1\nhttp: "127.0.0.1:-1"\nleafnodes {\n  listen: "127.0.0.1:-1"\n }\nserver_tags [\n  id:X\n ]\n' +
    'websocket {\n  port: -1\n  no_tls: true\n }\nports_file_dir: /tmp\n' +
    'jetstream {\n  max_file_store: 1048576\n  max_mem_store: 1048576\n  store_dir: /tmp/js\n }\n';
  withFiles({ 'n.conf': conf, 'core.conf': 'host: 127.0.0.1\nport: -1\nhttp: "127.0.0.1:-1"\nports_file_dir: /tmp\n' }, (dir) => {
    const c = nats('-c', join(dir, 'n.conf'));
    assert.equal(c.command, 'serve');
    assert.equal(c.options.port, 0);
    assert.equal(c.options.httpPort, 0);
    assert.equal(c.options.jetstream, true);
    assert.equal(c.options.dataDir, '/tmp/js');
    assert.equal(c.options.portsFileDir, '/tmp');
    assert.equal(c.options.maxFileStore, 1048576);
    assert.equal(c.warnings.length, 3);
    const core = nats('-c', join(dir, 'core.conf'));
    assert.equal(core.options.jetstream, false);
    assert.equal(core.options.httpPort, 0);
  });
});

test('nats-server flags: Go flag syntax (-x, --x, -x=v), every accepted flag', () => {
  const c = nats('-a', '0.0.0.0', '--port=4333', '-n', 'srv', '-m', '8333', '-js', '-sd', '/store', '--ports_file_dir', '/p');
  assert.equal(c.options.host, '0.0.0.0');
  assert.equal(c.options.port, 4333);
  assert.equal(c.options.serverName, 'srv');
  assert.equal(c.options.httpPort, 8333);
  assert.equal(c.options.jetstream, true);
  assert.equal(c.options.dataDir, '/store');
  assert.equal(c.options.portsFileDir, '/p');
  assert.equal(nats('--addr', '::').options.host, '::');
  assert.equal(nats('-net', '10.1.1.1').options.host, '10.1.1.1');
  assert.equal(nats('-port', '4444').options.port, 4444);
  assert.equal(nats('--server_name', 'x').options.serverName, 'x');
  assert.equal(nats('--name=y').options.serverName, 'y');
  assert.equal(nats('--jetstream').options.jetstream, true);
  assert.equal(nats('-js=false').options.jetstream, false);
  assert.equal(nats('--store_dir', '/s').options.dataDir, '/s');
  assert.equal(nats('--http_port', '-1').options.httpPort, 0);
  assert.equal(nats('-m', '0').options.httpPort, null);
  assert.equal(nats('-p', '-1').options.port, 0);
  assert.equal(nats('-p', '0').options.port, 4222);
  assert.equal(nats('-p', '5', '-p', '6').options.port, 6);
});

test('nats-server logging flags map to the log level', () => {
  assert.equal(nats().options.logLevel, 'info');
  assert.equal(nats('-D').options.logLevel, 'debug');
  assert.equal(nats('--debug').options.logLevel, 'debug');
  assert.equal(nats('-V').options.logLevel, 'trace');
  assert.equal(nats('-VV').options.logLevel, 'trace');
  assert.equal(nats('-DV').options.logLevel, 'trace');
  assert.equal(nats('-DVV').options.logLevel, 'trace');
  assert.equal(nats('--trace').options.logLevel, 'trace');
  assert.equal(nats('-D=false').options.logLevel, 'info');
  const c = nats(
    '-T',
    '--logtime_utc',
    '-l',
    '/var/log/n.log',
    '-s',
    '-r',
    'udp://x:514',
    '--log_size_limit',
    '1',
    '--max_traced_msg_len',
    '5',
    '--client_advertise',
    'x',
    '--profile',
    '6060',
  );
  assert.equal(c.command, 'serve');
  assert.equal(c.warnings.length, 7);
  assert.match(c.warnings[0]!, /^-l is ignored: herald logs to stderr; redirect it/);
  withFiles({ 'd.conf': 'trace: true\n' }, (dir) => {
    assert.equal(nats('-c', join(dir, 'd.conf'), '-D').options.logLevel, 'trace');
  });
  withFiles({ 'd.conf': 'log_level: error\n' }, (dir) => {
    assert.equal(nats('-c', join(dir, 'd.conf'), '-D').options.logLevel, 'debug');
  });
});

test('nats-server flags override the conf', () => {
  withFiles({ 'n.conf': 'port: 4100\njetstream: disabled\nhttp_port: 8100\nstore_dir: /conf\n' }, (dir) => {
    const c = nats('-c', join(dir, 'n.conf'), '-p', '4200', '-js', '-m', '0', '-sd', '/flag');
    assert.equal(c.options.port, 4200);
    assert.equal(c.options.jetstream, true);
    assert.equal(c.options.httpPort, null);
    assert.equal(c.options.dataDir, '/flag');
  });
});

test('nats-server help, version, and the positional words', () => {
  assert.equal(nats('-h').command, 'help');
  assert.equal(nats('--help').command, 'help');
  assert.equal(nats('-v').command, 'version');
  assert.equal(nats('--version').command, 'version');
  assert.equal(nats('version').command, 'version');
  assert.equal(nats('-p', '1', 'help').command, 'help');
  fails(() => nats('serve'), /^unrecognized command: 'serve'; run 'nats-server --help'$/);
  // a bool flag takes no separate value; like Go's flag package the word ends the flags
  fails(() => nats('-js', 'true'), /unrecognized command: 'true'/);
});

test('nats-server refusals name the flag and say why', () => {
  // TLS and HTTPS monitoring are implemented (test/security/tls-*.test.ts); their flags still
  // refuse what nats-server refuses.
  fails(() => nats('-ms', '8443'), /^TLS cert and key required for HTTPS$/);
  fails(() => nats('--tls'), /^TLS Server certificate must be present and valid$/);
  fails(() => nats('--tlscert', 'c.pem'), /^TLS Server private key must be present and valid$/);
  // --user/--pass/--auth are implemented (test/security/auth-conf.test.ts).
  fails(() => nats('--user', 'a'), /--user and --pass must be given together/);
  fails(() => nats('--routes', 'nats://x'), /--routes is not supported: herald runs as a single server/);
  fails(() => nats('--cluster_name', 'c'), /--cluster_name/);
  fails(() => nats('-t'), /-t is not supported/);
  fails(() => nats('-sl', 'reload'), /-sl is not supported/);
  fails(() => nats('-P', '/run/n.pid'), /-P is not supported: herald writes no PID file/);
});

test('nats-server errors: unknown flags, bad values, missing values', () => {
  fails(() => nats('--bogus'), /^unknown flag '--bogus'; run 'nats-server --help' to see every flag$/);
  fails(() => nats('--prot', '1'), /did you mean '-p'|did you mean '--port'/);
  fails(() => nats('-p', 'x'), /^-p: expected a port from 1 to 65535, -1 for a random port or 0 for 4222, got "x"$/);
  fails(() => nats('-m', '99999'), /^-m: expected a port from 1 to 65535, -1 for a random port or 0 for off, got "99999"$/);
  fails(() => nats('-js=maybe'), /-js: expected true or false, got "maybe"/);
  fails(() => nats('-c'), /^-c needs a value \(FILE\)$/);
  fails(() => nats('-n', 'a b'), /-n: expected a name without spaces/);
  fails(() => nats('-sd', ''), /-sd: expected a directory path/);
});

test('usage lists every flag with defaults for both invocations', () => {
  const h = usage('herald');
  for (const f of [
    '--config',
    '--host',
    '--port',
    '--http-host',
    '--http-port',
    '--redis-port',
    '--server-name',
    '--ports-file-dir',
    '--data',
    '--jetstream',
    '--no-jetstream',
    '--sync',
    '--max-file-store',
    '--max-mem-store',
    '--max-payload',
    '--max-pending',
    '--max-connections',
    '--max-control-line',
    '--ping-interval',
    '--max-pings-out',
    '--auth-timeout',
    '--write-deadline',
    '--log-level',
    '--log-format',
    '--help',
    '--version',
  ]) {
    assert.ok(h.includes(f), f);
  }
  assert.match(h, /--port, -p PORT +NATS client port; 0 or -1 = a random free port \(default: 4222\)/);
  assert.match(h, /--max-payload SIZE +.*\(default: 1MB\)/);
  assert.match(h, /--sync .*\(default: always\)/);
  assert.match(h, /--ping-interval DURATION .*\(default: 2m\)/);
  assert.match(h, /--http-port PORT\|off .*\(default: 8222\)/);
  const n = usage('nats-server');
  for (const f of [
    '-a, --addr, --net',
    '-p, --port',
    '-m, --http_port',
    '-c, --config',
    '-js, --jetstream',
    '-sd, --store_dir',
    '-DV',
    '-ms, --https_port',
    '--ports_file_dir',
  ]) {
    assert.ok(n.includes(f), f);
  }
  assert.match(n, /-m, --http_port PORT .*\(default: off\)/);
  assert.match(n, /Not supported/);
});

test('invocationOf recognises the nats-server shim', () => {
  assert.equal(invocationOf('/usr/local/bin/nats-server'), 'nats-server');
  assert.equal(invocationOf('/x/nats-server.js'), 'nats-server');
  assert.equal(invocationOf('/x/bin/herald.js'), 'herald');
  assert.equal(invocationOf(undefined), 'herald');
});
