import http from 'node:http';
import https from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.js';

/** Thrown by a handler for a query it cannot serve: answered 400 with the message, as nats-server. */
export class MonitorQueryError extends Error {}

/** One HTTP endpoint: returns the JSON body for a request's query, or null for 404. */
export type MonitorHandler = (query: URLSearchParams) => object | null;

/**
 * The monitoring HTTP listener: nats-server-style JSON endpoints (`/varz`, `/connz`, `/subsz`,
 * `/healthz`, `/jsz`), pretty-printed with two spaces as nats-server prints them. Read-only; each
 * request builds its body from live counters, so it costs O(connections) for /connz and nothing
 * on the message path.
 */
export class MonitorServer {
  private readonly server: http.Server;
  private readonly routes = new Map<string, MonitorHandler>();
  readonly stats: Record<string, number> = {};
  port = 0;
  /** Served over HTTPS (nats-server `https_port`). */
  readonly secure: boolean;

  /** With `tls`, serves HTTPS with that certificate and asks clients for none (nats-server
   * server.go getMonitoringTLSConfig sets NoClientCert). */
  constructor(
    private readonly log: Logger,
    tls: SecureContextOptions | null = null,
  ) {
    this.secure = tls !== null;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = tls === null ? http.createServer(handler) : https.createServer({ ...tls, requestCert: false }, handler);
  }

  route(path: string, h: MonitorHandler): void {
    this.routes.set(path, h);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Nothing a request carries may take the server down: a malformed target gets a 400, a
    // failing endpoint a 500.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('400 bad request\n');
      return;
    }
    let path = url.pathname;
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const h = this.routes.get(path);
    if (h === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    this.stats[path] = (this.stats[path] ?? 0) + 1;
    let text: string | null;
    try {
      const body = h(url.searchParams);
      text = body === null ? null : JSON.stringify(body, null, 2);
    } catch (err) {
      if (err instanceof MonitorQueryError) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(err.message);
        return;
      }
      this.log.error({ err, path }, 'monitoring endpoint failed');
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: String(err) }));
      return;
    }
    if (text === null) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(text);
  }
}
