// Request decoding with Go encoding/json's error texts, which nats-server puts in
// `10025 invalid JSON: …` (specs/nats.md §3 "Envelope").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGoJson, isEmptyRequest, isJsonObjectOrArray, type GoStruct } from '../../src/nats/jetstream/gojson.js';
import { STREAM_CONFIG_REQUEST } from '../../src/nats/jetstream/config.js';

const S: GoStruct = STREAM_CONFIG_REQUEST;
const dec = (s: string, schema: GoStruct = S, lenient = false) => decodeGoJson(Buffer.from(s), schema, lenient);

test('syntax errors carry Go scanner texts and 1-based byte offsets', () => {
  assert.equal(dec('{bad').error, "invalid character 'b' looking for beginning of object key string at offset 2");
  assert.equal(dec('{"a" 1}').error, "invalid character '1' after object key at offset 6");
  assert.equal(dec('{"name":"x" "y"}').error, "invalid character '\"' after object key:value pair at offset 13");
  assert.equal(dec('[1 2]').error, "invalid character '2' after array element at offset 4");
  assert.equal(dec('x').error, "invalid character 'x' looking for beginning of value at offset 1");
  assert.equal(dec('{"name":tru}').error, "invalid character '}' in literal true (expecting 'e') at offset 12");
  assert.equal(dec('{"max_msgs":-}').error, "invalid character '}' in numeric literal at offset 14");
  assert.equal(dec('{"max_msgs":1.}').error, "invalid character '}' after decimal point in numeric literal at offset 15");
  assert.equal(dec('{"name":"\\q"}').error, "invalid character 'q' in string escape code at offset 11");
  assert.equal(dec('{"name":"a').error, 'unexpected EOF');
  assert.equal(dec('{} x').error, "invalid character 'x' looking for beginning of value at offset 4");
});

test('unknown fields are refused in strict mode, ignored in lenient mode', () => {
  assert.equal(dec('{"name":"S","foo":1}').error, 'json: unknown field "foo"');
  assert.equal(dec('{"consumer_limits":{"bar":1}}').error, 'json: unknown field "bar"');
  assert.deepEqual(dec('{"name":"S","foo":1}', S, true).value, { name: 'S' });
});

test('keys match case-insensitively after an exact miss, as Go does', () => {
  assert.deepEqual(dec('{"NAME":"S","Max_Msgs":5}').value, { name: 'S', max_msgs: 5 });
});

test('type errors name the Go struct, field path and type', () => {
  assert.equal(
    dec('{"max_msgs":"a"}').error,
    'json: cannot unmarshal string into Go struct field StreamConfigRequest.max_msgs of type int64',
  );
  assert.equal(
    dec('{"max_msg_size":10000000000}').error,
    'json: cannot unmarshal number 10000000000 into Go struct field StreamConfigRequest.max_msg_size of type int32',
  );
  assert.equal(
    dec('{"first_seq":-1}').error,
    'json: cannot unmarshal number -1 into Go struct field StreamConfigRequest.first_seq of type uint64',
  );
  assert.equal(
    dec('{"max_age":1.5}').error,
    'json: cannot unmarshal number 1.5 into Go struct field StreamConfigRequest.max_age of type time.Duration',
  );
  assert.equal(
    dec('{"max_bytes":99999999999999999999}').error,
    'json: cannot unmarshal number 99999999999999999999 into Go struct field StreamConfigRequest.max_bytes of type int64',
  );
  assert.equal(
    dec('{"subjects":"a"}').error,
    'json: cannot unmarshal string into Go struct field StreamConfigRequest.subjects of type []string',
  );
  assert.equal(
    dec('{"subjects":[1]}').error,
    'json: cannot unmarshal number into Go struct field StreamConfigRequest.subjects of type string',
  );
  assert.equal(
    dec('{"consumer_limits":{"max_ack_pending":"x"}}').error,
    'json: cannot unmarshal string into Go struct field StreamConsumerLimits.consumer_limits.max_ack_pending of type int',
  );
  assert.equal(dec('"x"').error, 'json: cannot unmarshal string into Go value of type server.StreamConfigRequest');
});

test('custom enum decoders fail at once with their own texts', () => {
  assert.equal(dec('{"retention":"bogus"}').error, 'can not unmarshal "\\"bogus\\""');
  assert.equal(dec('{"storage":null}').error, 'can not unmarshal "null"');
  assert.deepEqual(dec('{"discard":"NEW"}').value, { discard: 'new' });
  assert.equal(dec('{"compression":"zstd"}').error, 'unknown compression algorithm');
});

test('null leaves a field unset; the first saved error wins; values decode in order', () => {
  assert.deepEqual(dec('{"name":null,"max_msgs":null}').value, {});
  assert.equal(dec('{"foo":1,"max_msgs":"x"}').error, 'json: unknown field "foo"');
  assert.deepEqual(dec('{"name":"A"} {"max_msgs":3}').value, { name: 'A', max_msgs: 3 });
  assert.deepEqual(dec('').value, {});
  assert.deepEqual(dec('  \n').value, {});
});

test('64-bit limits are range-checked exactly before becoming numbers', () => {
  assert.equal(dec('{"max_bytes":9223372036854775807}').error, null);
  assert.notEqual(dec('{"max_bytes":9223372036854775808}').error, null);
});

test('nesting is bounded (Go text; herald stops at depth 1000)', () => {
  const deep = '['.repeat(1001) + ']'.repeat(1001);
  assert.match(dec(`{"mirror":${deep}}`).error ?? '', /exceeded max depth/);
});

test('isEmptyRequest and isJsonObjectOrArray follow nats-server', () => {
  assert.ok(isEmptyRequest(Buffer.from('')));
  assert.ok(isEmptyRequest(Buffer.from('{}')));
  assert.ok(isEmptyRequest(Buffer.from(' { } ')));
  assert.ok(!isEmptyRequest(Buffer.from('{"a":1}')));
  assert.ok(!isEmptyRequest(Buffer.from('x')));
  assert.ok(isJsonObjectOrArray(Buffer.from('  {')));
  assert.ok(isJsonObjectOrArray(Buffer.from('[')));
  assert.ok(!isJsonObjectOrArray(Buffer.from('5')));
  assert.ok(!isJsonObjectOrArray(Buffer.from('')));
});
