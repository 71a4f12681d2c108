#!/bin/sh
# Runs Redis 7.0.15's own Tcl test units against an already running server (herald's Redis door or
# a real redis-server), as specs/redis.md §5 describes: `--host/--port` (external mode), `--durable`
# (an unexpected error fails one test, not the whole file), capability tags herald does not have
# denied with `--tags -needs:…`, and the committed skipfile test/redis-tcl/skipfile (one reason per
# skipped test, as a comment above it).
#
#   scripts/redis-tcl.sh <host> <port> [unit/pubsub unit/pubsubshard …] [-- extra runtest options]
#
# The Tcl tree is not vendored (Redis's tests are not ours to copy): it is extracted per run from a
# local git mirror of redis/redis at tag 7.0.15 (REDIS_MIRROR, default /work/.mirror/redis+redis/repo)
# or taken from REDIS_TCL_TREE (a directory holding `tests/`). Without either the script says so and
# exits 0: CI does not run it. Compare with a real server started the same way, e.g.
#   redis-server --port 7379 --save '' --appendonly no & scripts/redis-tcl.sh 127.0.0.1 7379 unit/pubsub
#
# unit/pubsubshard is tagged `external:skip` as a whole in 7.0.15 although its first block only
# uses SSUBSCRIBE/SPUBLISH; the script drops that tag from the first block (the second block needs
# replication and stays skipped), for herald and redis-server alike.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 <host> <port> [units…] [-- runtest options]" >&2
  exit 2
fi
HOST=$1
PORT=$2
shift 2
REDIS_TAG=7.0.15
MIRROR=${REDIS_MIRROR:-/work/.mirror/redis+redis/repo}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SKIPFILE=${REDIS_TCL_SKIPFILE:-$HERE/test/redis-tcl/skipfile}

UNITS=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  UNITS="$UNITS --single $1"
  shift
done
[ $# -gt 0 ] && shift # the "--"
[ -z "$UNITS" ] && UNITS="--single unit/pubsub --single unit/pubsubshard"

TCLSH=$(command -v tclsh8.6 || command -v tclsh8.7 || command -v tclsh8.5 || command -v tclsh || true)
if [ -z "$TCLSH" ]; then
  echo "redis-tcl: no tclsh found (Tcl 8.5+ is needed); nothing run." >&2
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/herald-redis-tcl.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -n "${REDIS_TCL_TREE:-}" ] && [ -d "$REDIS_TCL_TREE/tests" ]; then
  cp -R "$REDIS_TCL_TREE/tests" "$WORK/tests"
elif git -C "$MIRROR" rev-parse -q --verify "refs/tags/$REDIS_TAG" >/dev/null 2>&1; then
  git -C "$MIRROR" archive "$REDIS_TAG" tests runtest | tar -x -C "$WORK"
else
  echo "redis-tcl: no Redis $REDIS_TAG test tree (set REDIS_TCL_TREE, or REDIS_MIRROR to a redis/redis git mirror); nothing run." >&2
  exit 0
fi

# See the header: run pubsubshard's first (standalone) block against an external server.
if [ -f "$WORK/tests/unit/pubsubshard.tcl" ]; then
  sed -i '1s/tags {"pubsubshard external:skip"}/tags {"pubsubshard"}/' "$WORK/tests/unit/pubsubshard.tcl"
fi

cd "$WORK"
# The harness listens for its test clients on a port near --baseport (21111 by default): spread
# concurrent runs (several engineers, herald and redis-server side by side) by pid.
BASEPORT=$((20000 + ($$ % 600) * 64))
# shellcheck disable=SC2086 # UNITS is a word list on purpose
exec "$TCLSH" tests/test_helper.tcl --host "$HOST" --port "$PORT" $UNITS \
  --tags "-needs:debug -needs:repl -needs:config-maxmemory -needs:save -needs:pfdebug" \
  --durable --skipfile "$SKIPFILE" --clients 1 --timeout 120 --baseport "$BASEPORT" "$@"
