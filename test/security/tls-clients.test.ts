// TLS with real clients (nats v2 and @nats-io/transport-node v3), the same expectations run on
// herald and on the real nats-server with the same conf and certificates: server-only TLS,
// verify (client certificates required, checked against ca_file), verify_and_map (the
// certificate names the user), and the wrong CA. handshake_first is herald-only: the installed
// nats-server 2.9.10 predates it (herald follows the 2.10 source).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as v2 from 'nats';
import * as v3 from '@nats-io/transport-node';
import { within } from '../helpers/bounded.js';
import { startHerald, startReferenceNats, type Target } from './helpers.js';
import { makeTestCerts, tlsBlock, type CertPair, type TestCerts } from './tls-certs.js';

const WAIT = 5000;
let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs.remove());

const STARTS: [string, (conf: string) => Promise<Target>][] = [
  ['herald', (c) => startHerald(c)],
  ['nats-server', (c) => startReferenceNats(c)],
];

function clientTls(who: CertPair | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t: Record<string, unknown> = { caFile: certs.ca, ...extra };
  if (who !== null) Object.assign(t, { certFile: who.cert, keyFile: who.key });
  return t;
}

/** What the round trip needs of a v2 or v3 connection. */
interface EchoConn {
  subscribe(subject: string, opts: { max: number }): AsyncIterable<{ string(): string }>;
  publish(subject: string, data: string): void;
  close(): Promise<void>;
}

/** Connects (v2 or v3), sends one message to itself, returns what it received. */
async function roundTrip(
  connect: (o: object) => Promise<EchoConn>,
  t: Target,
  tls: Record<string, unknown>,
  text: string,
): Promise<string> {
  const nc = await within(connect({ servers: t.url, tls, timeout: WAIT, reconnect: false }), WAIT + 1000, 'connect');
  try {
    const sub = nc.subscribe('tls.echo', { max: 1 });
    nc.publish('tls.echo', text);
    for await (const m of sub) return m.string();
    return 'no message';
  } finally {
    await nc.close();
  }
}

const v2RoundTrip = (t: Target, tls: Record<string, unknown>): Promise<string> =>
  roundTrip(v2.connect as (o: object) => Promise<EchoConn>, t, tls, 'over tls');
const v3RoundTrip = (t: Target, tls: Record<string, unknown>): Promise<string> =>
  roundTrip(v3.connect as (o: object) => Promise<EchoConn>, t, tls, 'over tls v3');

/** The error a v2 connect fails with ('' when it succeeds). */
async function v2ConnectError(t: Target, tls: Record<string, unknown>): Promise<string> {
  try {
    const nc = await within(v2.connect({ servers: t.url, tls, timeout: WAIT, reconnect: false }), WAIT + 1000, 'v2 connect');
    await nc.flush();
    await nc.close();
    return '';
  } catch (err) {
    return String((err as Error).message);
  }
}

for (const [name, start] of STARTS) {
  describe(`TLS with real clients: ${name}`, () => {
    test('server TLS: v2 and v3 connect with the CA, publish and receive', async () => {
      const t = await start(tlsBlock(certs));
      try {
        assert.equal(await v2RoundTrip(t, clientTls(null)), 'over tls');
        assert.equal(await v3RoundTrip(t, clientTls(null)), 'over tls v3');
        // A client that does not trust the CA refuses the server's certificate.
        assert.match(await v2ConnectError(t, {}), /self.signed|unable to verify|certificate/i);
      } finally {
        await t.stop();
      }
    });

    test('verify: a client certificate signed by ca_file is required', async () => {
      const t = await start(tlsBlock(certs, 'verify: true'));
      try {
        assert.equal(await v2RoundTrip(t, clientTls(certs.alice)), 'over tls');
        assert.equal(await v3RoundTrip(t, clientTls(certs.bob)), 'over tls v3');
        assert.notEqual(await v2ConnectError(t, clientTls(null)), '', 'no client certificate must fail');
        assert.notEqual(await v2ConnectError(t, clientTls(certs.rogue)), '', 'a certificate of another CA must fail');
        // Others are unaffected by the refused ones.
        assert.equal(await v2RoundTrip(t, clientTls(certs.carol)), 'over tls');
      } finally {
        await t.stop();
      }
    });

    test('verify_and_map: email SAN and subject DN (in any order) name the user; an unknown certificate is refused', async () => {
      const conf =
        tlsBlock(certs, 'verify_and_map: true') +
        `authorization {
  users = [
    { user: "alice@example.com", permissions: { publish: "tls.>", subscribe: "tls.>" } }
    { user: "O=Herald, CN=bob" }
  ]
}
`;
      const t = await start(conf);
      try {
        assert.equal(await v2RoundTrip(t, clientTls(certs.alice)), 'over tls');
        assert.equal(await v3RoundTrip(t, clientTls(certs.bob)), 'over tls v3');
        assert.match(await v2ConnectError(t, clientTls(certs.carol)), /Authorization Violation/i);
        assert.notEqual(await v2ConnectError(t, clientTls(null)), '');
        // The mapped user's permissions apply: alice may not publish outside tls.>.
        const nc = await v2.connect({ servers: t.url, tls: clientTls(certs.alice), timeout: WAIT, reconnect: false });
        try {
          const errors = (async () => {
            for await (const s of nc.status()) if (s.type === v2.Events.Error) return String(s.data);
            return 'status ended';
          })();
          nc.publish('other.subject', 'x');
          assert.match(
            await within(errors, WAIT, 'permission error'),
            /PERMISSIONS_VIOLATION|Permissions Violation for Publish to "other.subject"/,
          );
        } finally {
          await nc.close();
        }
        if (t.herald !== null) {
          // The certificate's identity is what /connz shows as authorized_user.
          const users = new Set<string>();
          const nc2 = await v2.connect({ servers: t.url, tls: clientTls(certs.bob), timeout: WAIT, reconnect: false });
          for (const c of t.herald.door.connections.values()) users.add(c.authUser);
          await nc2.close();
          assert.ok(users.has('O=Herald, CN=bob'), [...users].join(','));
        }
      } finally {
        await t.stop();
      }
    });
  });
}

describe('TLS handshake first (herald; nats-server 2.10 handshake_first)', () => {
  test('v2 and v3 with handshakeFirst connect; INFO comes inside TLS', async () => {
    const t = await startHerald(tlsBlock(certs, 'handshake_first: true'));
    try {
      assert.equal(await v2RoundTrip(t, clientTls(null, { handshakeFirst: true })), 'over tls');
      assert.equal(await v3RoundTrip(t, clientTls(null, { handshakeFirst: true })), 'over tls v3');
      // A client that waits for a plaintext INFO sees nothing and gives up (bounded by its timeout).
      const err = await v2ConnectError(t, { caFile: certs.ca });
      assert.notEqual(err, '');
    } finally {
      await t.stop();
    }
  });

  test('handshake_first: auto falls back to INFO first for clients that wait for it', async () => {
    const t = await startHerald(tlsBlock(certs, 'handshake_first: auto'));
    try {
      assert.equal(await v2RoundTrip(t, clientTls(null, { handshakeFirst: true })), 'over tls');
      assert.equal(await v2RoundTrip(t, clientTls(null)), 'over tls');
    } finally {
      await t.stop();
    }
  });
});
