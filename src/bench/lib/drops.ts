/**
 * How a load role treats its server closing the connection before the role is done.
 */
import type net from 'node:net';
import type { RoleResult } from './ipc.js';

/**
 * When `socket` closes while `finished()` is still false, counts a disconnect in `res`, keeps
 * `reason` (if given) as the first error, and calls `finish` so the role reports what it has.
 */
export function finishOnDrop(
  socket: net.Socket,
  res: RoleResult,
  finished: () => boolean,
  finish: () => void,
  reason?: string,
): void {
  socket.on('close', () => {
    if (finished()) return;
    res.disconnects++;
    if (reason !== undefined) res.firstError ??= reason;
    finish();
  });
}
