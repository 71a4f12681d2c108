// The folders are the architecture (docs/architecture.md): doors translate bytes, core routes,
// stream decides, store persists. This test reads the sources and fails when a wire format leaks
// below the doors, or when monitoring reaches into the server or a door.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/core/ or test/core/. */
function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      if (statSync(join(dir, 'package.json')).isFile() && statSync(join(dir, 'src')).isDirectory()) return dir;
    } catch {
      // keep climbing
    }
    dir = join(dir, '..');
  }
  throw new Error('repository root not found above the test file');
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const ROOT = repoRoot();

/** Wire-format markers that belong to a door: JetStream API subjects, Go JSON/time helpers, NATS
 * header names, NATS/RESP frame prefixes built as text. */
const WIRE = [/\$JS\.(API|ACK|EVENT)/, /gojson|goQuote|gotime/, /Nats-(Msg-Id|Expected|Rollup)/, /NATS\/1\.0/, /'\+OK|'-ERR |\r\n\$\d/];

for (const layer of ['src/core', 'src/stream', 'src/store']) {
  test(`${layer} knows no wire format`, () => {
    const hits: string[] = [];
    for (const file of sources(join(ROOT, layer))) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // The one error catalogue holds wire texts by design: doors use it, core does not parse them.
        if (file.endsWith(join('core', 'errors.ts'))) return;
        // Comments may name what a door does (e.g. that Message.headers carries opaque header bytes).
        if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
        for (const re of WIRE) if (re.test(line)) hits.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(hits, [], `wire formats below the doors:\n${hits.join('\n')}`);
  });
}

for (const layer of ['src/core', 'src/stream', 'src/store', 'src/http']) {
  test(`${layer} imports no door and not the server`, () => {
    const hits: string[] = [];
    for (const file of sources(join(ROOT, layer))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1];
        if (/(^|\/)(nats|resp)\//.test(spec) || /(^|\/)server\.js$/.test(spec)) hits.push(`${relative(ROOT, file)}: ${spec}`);
        if (layer !== 'src/http' && /(^|\/)http\//.test(spec)) hits.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    assert.deepEqual(hits, [], `imports across the layering:\n${hits.join('\n')}`);
  });
}
