// Every JetStream error in the catalogue is documented, with its exact codes and text, in
// docs/jetstream.md (the fastify discipline: an error nobody can look up is a bug).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsErrors } from '../../src/core/errors.js';

test('every JsErrors entry appears in the docs/jetstream.md error table', () => {
  // <build>/test/jetstream → repo root
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const doc = readFileSync(join(root, 'docs', 'jetstream.md'), 'utf8');
  // Table rows as trimmed cells, so column padding does not matter.
  const rows = new Set(
    doc
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim())
          .join('|'),
      ),
  );
  for (const [key, e] of Object.entries(JsErrors)) {
    const row = [e.err_code, e.code, key, e.description].join('|');
    assert.ok(rows.has(row), `docs/jetstream.md lacks a row: ${row}`);
  }
});
