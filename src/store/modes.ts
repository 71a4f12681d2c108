/**
 * Permission bits of everything herald creates under its data directory. Stored messages are
 * readable by the server's user and its group only, as nats-server does (defaultDirPerms 0750,
 * defaultFilePerms 0640); the process umask can only narrow them further.
 */

/** Directories: owner rwx, group r-x, others nothing. */
export const DATA_DIR_MODE = 0o750;

/** Files (segments, indexes, logs, meta): owner rw, group r, others nothing. */
export const DATA_FILE_MODE = 0o640;
