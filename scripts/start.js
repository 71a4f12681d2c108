#!/usr/bin/env node
// `npm start`: builds dist/ only if a source changed (build-if-stale.js), then runs `herald serve`
// in this same process, so an unchanged tree starts with one Node launch. Extra arguments after
// `npm start --` are passed to `herald serve`.
import { buildIfStale } from './build-if-stale.js';

const status = buildIfStale();
if (status !== 0) process.exit(status);
process.argv.splice(2, 0, 'serve');
await import('../bin/herald.js');
