/**
 * TLS on the NATS door, as nats-server does it (server.go createClient, client.go
 * doTLSHandshake): INFO goes out in plaintext with `tls_required`, then the server starts the
 * TLS handshake on the same socket and the client must answer with a ClientHello. With
 * `handshake_first` (nats-server 2.10; the 2.9.10 binary used in differential tests predates it,
 * so this follows the 2.10 source) the handshake comes first and INFO is the first message
 * inside TLS. `timeout` bounds the handshake. `verify_and_map` names the user by the client
 * certificate (auth.go checkClientTLSCertSubject). Node's `tls` module does all cryptography.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { createHash, type X509Certificate } from 'node:crypto';
import type { Logger } from '../core/log.js';
import type { AuthUser, Authenticated } from '../core/auth.js';
import { secureContextOptions, type TlsSettings } from '../config/tls-conf.js';
import { ConfigError } from '../config/errors.js';

/** First byte of a TLS record that carries a handshake message (RFC 8446 §5.1, ContentType 22). */
const TLS_HANDSHAKE_RECORD = 0x16;

function peerKey(s: net.Socket): string {
  return `${s.remoteAddress}:${s.remotePort}`;
}

/** The INFO fields nats-server sends for its TLS settings (server.go NewServer, createClient). */
export function tlsInfoFields(s: TlsSettings): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  if (s.allowNonTls && !s.handshakeFirst) f.tls_available = true;
  else f.tls_required = true;
  if (s.verify) f.tls_verify = true;
  return f;
}

/**
 * Checks a reloaded `tls {}` block before anything is applied, and returns what applies it.
 * Throws a ConfigError (the reload is refused, the running TLS stays) when TLS would be turned on
 * or off — herald's door is built with or without TLS at start, so that needs a restart — or when
 * the new certificate, key or CA file cannot be read or parsed. Reads the files once.
 */
export function prepareTlsReload(current: NatsTls | null, next: TlsSettings | null): () => void {
  if (current === null || next === null) {
    throw new ConfigError(`config reload not supported for tls: turning TLS ${next === null ? 'off' : 'on'} needs a restart`, { key: 'tls' });
  }
  let ctx: tls.SecureContextOptions;
  try {
    ctx = secureContextOptions(next);
    tls.createSecureContext(ctx);
  } catch (err) {
    throw new ConfigError(`tls: ${(err as Error).message}; the running certificate stays`, { key: 'tls' });
  }
  return () => current.rotate(next, ctx);
}

/** What the door gets back once a connection may speak NATS. */
export type TlsReady = (socket: net.Socket, infoSent: boolean) => void;

/**
 * Runs the TLS dance for accepted sockets and keeps those still in it, so the door can close
 * them. Guarantees: a socket reaches `ready` only after a completed handshake (and, with
 * `verify`, an authorized client certificate), or as plaintext when `allow_non_tls` lets it; a
 * client that sends anything else, or does not finish within `timeout`, is closed without
 * affecting others. Costs one timer and one handshake per connection.
 */
export class NatsTls {
  /** Never listens: accepted sockets are handed to it ('connection'), so Node's server-side
   * handshake (client certificate checks included) runs on them. */
  private readonly server: tls.Server;
  private readonly pending = new Set<net.Socket>();
  /** Handshakes in progress by the client's address and port (unique among live connections). */
  private readonly waiting = new Map<string, { ok: (t: tls.TLSSocket) => void; fail: (why: string) => void }>();

  /** Replaced by rotate() on a config reload; a connection reads it once, when it is accepted. */
  settings: TlsSettings;

  constructor(
    settings: TlsSettings,
    private readonly log: Logger,
  ) {
    this.settings = settings;
    // Go's crypto/tls (nats-server) sends exactly cert_file's certificates; OpenSSL completes the
    // chain from `ca` and would send the CA too, so a client that does not trust it would read
    // "self-signed certificate in certificate chain" instead of nats-server's "unable to verify
    // the first certificate" (nats.node test/tls.js, "available connects with or without"). The
    // CA only checks client certificates, so it is given only with `verify` (where the root is
    // still sent: Node has no way to turn OpenSSL's auto-chain off).
    const { ca, ...context } = secureContextOptions(settings);
    this.server = tls.createServer({
      ...context,
      ...(settings.verify && ca !== undefined ? { ca } : {}),
      requestCert: settings.verify,
      rejectUnauthorized: settings.verify,
      // herald's own timer (settings.timeoutMs) bounds the handshake.
      handshakeTimeout: 0,
    });
    this.server.on('secureConnection', (t: tls.TLSSocket) => this.waiting.get(peerKey(t))?.ok(t));
    this.server.on('tlsClientError', (err: Error, t: tls.TLSSocket) => this.waiting.get(peerKey(t))?.fail(err.message));
  }

  /**
   * A config reload's new `tls {}` block (nats-server reload.go tlsOption.Apply): connections
   * accepted from now on use the new certificate, CA and verify mode; those already connected
   * keep the session they negotiated. `ctx` is secureContextOptions(next), read beforehand.
   */
  rotate(next: TlsSettings, ctx: tls.SecureContextOptions): void {
    // The CA only with `verify`, as in the constructor.
    const { ca, ...context } = ctx;
    this.server.setSecureContext({ ...context, ...(next.verify && ca !== undefined ? { ca } : {}) });
    // Node reads these per accepted socket (tls.Server's tlsConnectionListener).
    const srv = this.server as tls.Server & { requestCert: boolean; rejectUnauthorized: boolean };
    srv.requestCert = next.verify;
    srv.rejectUnauthorized = next.verify;
    this.settings = next;
  }

  /** Stops every handshake in progress. */
  closeAll(): void {
    for (const s of this.pending) s.destroy();
    this.pending.clear();
  }

  /**
   * Greets `raw` and upgrades it. `info` is the INFO line, written here in plaintext unless the
   * handshake comes first (then the door queues it once `ready` says `infoSent: false`).
   */
  accept(raw: net.Socket, cid: number, info: () => Buffer, ready: TlsReady): void {
    const s = this.settings;
    this.pending.add(raw);
    const meta = { cid, ip: raw.remoteAddress };
    let upgraded: tls.TLSSocket | null = null;
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(deadline);
      this.pending.delete(raw);
    };
    const drop = (why: string): void => {
      if (done) return;
      done = true;
      this.log.debug({ ...meta, why }, 'TLS handshake error');
      clearTimeout(deadline);
      this.pending.delete(raw);
      upgraded?.destroy();
      raw.destroy();
    };
    // nats-server tlsTimeout: the connection is closed; the -ERR it queues never reaches a
    // client that is mid-handshake (observed with nats-server 2.9.10), so herald sends nothing.
    const deadline = setTimeout(() => drop('TLS handshake timeout'), s.timeoutMs);
    deadline.unref();
    raw.on('error', () => drop('read error'));
    raw.once('close', () => {
      clearTimeout(deadline);
      if (fallback !== null) clearTimeout(fallback);
      this.pending.delete(raw);
    });

    let tlsFirst = s.handshakeFirst;
    let fallback: NodeJS.Timeout | null = null;
    if (!tlsFirst) raw.write(info());
    else if (s.handshakeFirstFallbackMs > 0) {
      // nats-server 2.10 createClient: no bytes within the fallback delay → send INFO and go on
      // as a server without handshake_first.
      fallback = setTimeout(() => {
        tlsFirst = false;
        raw.write(info());
      }, s.handshakeFirstFallbackMs);
    }

    raw.once('data', (chunk: Buffer) => {
      raw.pause();
      if (fallback !== null) clearTimeout(fallback);
      raw.unshift(chunk);
      if (chunk[0] !== TLS_HANDSHAKE_RECORD) {
        // nats-server sniffs the first byte only with allow_non_tls; otherwise Go's handshake
        // fails with "first record does not look like a TLS handshake" and the connection
        // closes with nothing sent.
        if (s.allowNonTls && !tlsFirst) {
          finish();
          ready(raw, true);
          raw.resume(); // paused above to sniff; adding a 'data' listener does not undo pause()
          return;
        }
        drop('first record does not look like a TLS handshake');
        return;
      }
      const key = peerKey(raw);
      this.waiting.set(key, {
        ok: (t) => {
          this.waiting.delete(key);
          upgraded = t;
          if (s.pinnedCerts !== null && !this.pinned(t)) {
            drop('client certificate not pinned');
            return;
          }
          finish();
          ready(t, !tlsFirst);
        },
        fail: (why) => {
          this.waiting.delete(key);
          drop(why);
        },
      });
      raw.once('close', () => this.waiting.delete(key));
      this.server.emit('connection', raw);
    });
  }

  /** nats-server client.go matchesPinnedCert: SHA-256 of the peer's DER SubjectPublicKeyInfo. */
  private pinned(t: tls.TLSSocket): boolean {
    const cert = t.getPeerX509Certificate();
    if (cert === undefined) return false;
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    return this.settings.pinnedCerts!.includes(createHash('sha256').update(spki).digest('hex'));
  }
}

/** The negotiated version ("1.3", as nats-server prints it) and IANA cipher name; null for plaintext. */
export function tlsDetails(socket: net.Socket): { version: string; cipher: string } | null {
  if (!(socket instanceof tls.TLSSocket)) return null;
  const c = socket.getCipher();
  return { version: (socket.getProtocol() ?? '').replace(/^TLSv/, ''), cipher: c.standardName ?? c.name };
}

/** True when the connection's socket is TLS and `verify_and_map` asks to name users by certificate. */
export function mapsUsers(settings: TlsSettings | null, socket: net.Socket): socket is tls.TLSSocket {
  return settings !== null && settings.map && socket instanceof tls.TLSSocket;
}

/** Splits Node's `subjectAltName` ("DNS:a, email:b, URI:c", values JSON-quoted when they hold separators). */
function altNames(cert: X509Certificate): { kind: string; value: string }[] {
  const out: { kind: string; value: string }[] = [];
  const text = cert.subjectAltName ?? '';
  const re = /(DNS|email|URI|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ kind: m[1]!, value });
  }
  return out;
}

/** One attribute of a distinguished name. */
interface Attr {
  type: string;
  value: string;
}

/** The certificate subject as attributes, in certificate order (Node prints one per line). */
function subjectAttrs(cert: X509Certificate): Attr[] {
  return cert.subject
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => {
      const i = l.indexOf('=');
      let value = l.slice(i + 1);
      if (value.startsWith('"')) {
        try {
          value = JSON.parse(value) as string;
        } catch {
          /* keep as printed */
        }
      }
      return { type: l.slice(0, i).toUpperCase(), value };
    });
}

/** Parses an RFC 4514 DN string ("CN=alice,OU=x,O=y") into attributes; null when it is not one. */
function parseDn(s: string): Attr[] | null {
  const attrs: Attr[] = [];
  let cur = '';
  const parts: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      continue;
    }
    if (ch === ',' || ch === '+') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  for (const p of parts) {
    const i = p.indexOf('=');
    if (i <= 0) return null;
    attrs.push({ type: p.slice(0, i).trim().toUpperCase(), value: p.slice(i + 1).trim() });
  }
  return attrs;
}

/** go-ldap DN.RDNsMatch as nats-server uses it: the same attributes, in any order. */
function sameAttrs(a: Attr[], b: Attr[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: Attr): string => `${x.type}=${x.value}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((k, i) => k === right[i]);
}

/** Go's pkix RDNSequence.String(): the subject's attributes, last first, comma-joined, escaped. */
function goSubjectString(attrs: Attr[]): string {
  const esc = (v: string): string =>
    v
      .replace(/([,+"\\<>;])/g, '\\$1')
      .replace(/^([ #])/, '\\$1')
      .replace(/ $/, '\\ ');
  return [...attrs]
    .reverse()
    .map((a) => `${a.type}=${esc(a.value)}`)
    .join(',');
}

/**
 * nats-server auth.go checkClientTLSCertSubject with the users table: the first configured user
 * named by the certificate's email SANs, then its DNS SANs, then its URI SANs, then its subject
 * DN (attributes compared in any order), then the subject printed as Go prints it. Nkey users
 * are never mapped. Null when no user matches or the client sent no certificate.
 */
export function mapCertificateUser(socket: tls.TLSSocket, users: readonly AuthUser[]): Authenticated | null {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  const named = users.filter((u) => !u.nkey);
  const byName = (n: string): Authenticated | null => {
    const u = named.find((x) => x.name === n);
    return u === undefined ? null : { user: u.name, permissions: u.permissions, account: u.account };
  };
  const sans = altNames(cert);
  for (const kind of ['email', 'DNS', 'URI']) {
    for (const san of sans) {
      if (san.kind !== kind) continue;
      const hit = byName(san.value);
      if (hit !== null) return hit;
    }
  }
  const subject = subjectAttrs(cert);
  if (subject.length > 0) {
    for (const u of named) {
      const dn = parseDn(u.name);
      if (dn !== null && sameAttrs(dn, subject)) return { user: u.name, permissions: u.permissions, account: u.account };
    }
    const hit = byName(goSubjectString(subject));
    if (hit !== null) return hit;
  }
  return null;
}
