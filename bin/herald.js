#!/usr/bin/env node
// herald's command-line entry point. Runs the compiled JavaScript in dist/ (build with `npm run build`).
import { run } from './main-entry.js';

void run(process.argv.slice(2), process.argv[1], 'herald');
