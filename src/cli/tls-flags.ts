/**
 * nats-server's `--tls*` flags (opts.go ConfigureOptions), shared by both invocations. They only
 * record what was given; args.ts applies them together after the config file, as nats-server's
 * overrideTLS does (src/config/tls-conf.ts tlsFromFlags).
 */
import type { Flag, State } from './args.js';

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
