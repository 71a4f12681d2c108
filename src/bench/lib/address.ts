/**
 * Server URLs for the raw-socket clients: `scheme://[user:pass@]host:port`, the scheme optional.
 */

/** Where to connect, from a server URL. */
export interface ServerAddress {
  host: string;
  port: number;
  user?: string;
  pass?: string;
}

/** Parses `url` (`scheme` assumed when it has none); host defaults to 127.0.0.1, port to `defaultPort`. */
export function parseServerUrl(url: string, scheme: string, defaultPort: number): ServerAddress {
  const u = new URL(url.includes('://') ? url : `${scheme}://${url}`);
  const addr: ServerAddress = { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
  if (u.username) addr.user = decodeURIComponent(u.username);
  if (u.password) addr.pass = decodeURIComponent(u.password);
  return addr;
}
