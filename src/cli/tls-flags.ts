/**
 * nats-server's `--tls*` flags (opts.go ConfigureOptions), shared by both invocations. They only
 * record what was given; args.ts applies them together after the config file, as nats-server's
 * overrideTLS does (src/config/tls-conf.ts tlsFromFlags).
 */
import type { Flag, State } from './args.js';
import type { ServerOptions } from '../config/options.js';
import { tlsFromFlags } from '../config/tls-conf.js';

/**
 * Applies the recorded `--tls*` flags to `o` after the config file and the other flags
 * (nats-server overrideTLS). When TLS ends up on and nothing set the auth timeout (neither
 * `authorization { timeout }` nor `--auth-timeout`), it becomes the TLS timeout + 1 s, as
 * nats-server's setBaselineOptions → getDefaultAuthTimeout does, so a client has its whole TLS
 * handshake and still a second for CONNECT (a conf `tls {}` block already gets this in
 * src/config/load.ts finishTls).
 */
export function applyTlsFlags(t: State['tls'], o: ServerOptions, authTimeoutSet: boolean): void {
  if (t.off) o.tls = null;
  else if (t.seen) o.tls = tlsFromFlags(t);
  else return;
  if (o.tls !== null && !authTimeoutSet) o.authTimeoutMs = o.tls.timeoutMs + 1000;
}

/** Records one `--tls*` flag; nats-server: any of them (unless `--tls=false`) replaces the config's TLS. */
function tlsFlag(apply: (t: State['tls'], v: string | boolean) => void): Flag['run'] {
  return (s, v) => {
    s.tls.seen = true;
    apply(s.tls, v);
  };
}

/** nats-server's TLS flags (opts.go ConfigureOptions), for both invocations. */
export const TLS_FLAGS: readonly Flag[] = [
  {
    section: 'Security',
    names: ['--tls'],
    help: "Enable TLS (--tls=false turns off a config file's tls block)",
    run: tlsFlag((t, v) => (t.off = v === false)),
  },
  {
    section: 'Security',
    names: ['--tlscert'],
    arg: 'FILE',
    help: 'Server certificate file',
    run: tlsFlag((t, v) => (t.cert = String(v))),
  },
  {
    section: 'Security',
    names: ['--tlskey'],
    arg: 'FILE',
    help: 'Private key for the server certificate',
    run: tlsFlag((t, v) => (t.key = String(v))),
  },
  {
    section: 'Security',
    names: ['--tlscacert'],
    arg: 'FILE',
    help: 'Client certificate CA for verification',
    run: tlsFlag((t, v) => (t.ca = String(v))),
  },
  {
    section: 'Security',
    names: ['--tlsverify'],
    help: 'Enable TLS with client verification',
    run: tlsFlag((t, v) => (t.verify = v === true)),
  },
];
