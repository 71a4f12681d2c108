/**
 * Strict decoding of JetStream API request bodies with nats-server's error texts.
 *
 * nats-server decodes requests with Go's `encoding/json` in strict mode (`DisallowUnknownFields`)
 * and answers a bad body with `10025 invalid JSON: <Go's error text>` (specs/nats.md §3
 * "Envelope"). Clients and tests compare those descriptions, so this module reproduces the Go
 * decoder's observable behaviour for the shapes the API uses:
 * - syntax errors: `invalid character 'x' looking for beginning of value at offset N`, and
 *   `unexpected EOF` for a truncated body;
 * - unknown keys: `json: unknown field "k"` (keys match exactly first, then case-insensitively);
 * - type mismatches: `json: cannot unmarshal string into Go struct field T.f of type int64`,
 *   with `number 1.5` style values for integers that do not parse or overflow;
 * - several concatenated values decode one after the other into the same result, as Go's
 *   `Decoder` loop in nats-server does; `null` leaves a field untouched.
 *
 * Numbers are kept as text until a field's type is known, so 64-bit limits are range-checked
 * exactly (BigInt) before they become JS numbers. Costs one pass over the body plus one small
 * tree; bodies are API requests (bounded by max_payload), never message payloads.
 */

/** How one JSON field maps onto its Go type. `go` is the Go type name used in error texts. */
export type GoField =
  | { readonly t: 'string' }
  | { readonly t: 'bool' }
  | { readonly t: 'int'; readonly go: GoIntType }
  | { readonly t: 'strings' }
  | { readonly t: 'strmap' }
  /** A Go type with its own UnmarshalJSON accepting exactly these JSON strings (case-folded when `fold`). */
  | { readonly t: 'enum'; readonly values: readonly string[]; readonly fold?: boolean }
  /** Go's StoreCompression: decodes a JSON string, unknown names fail with a fixed text. */
  | { readonly t: 'compression' }
  | { readonly t: 'struct'; readonly struct: GoStruct }
  /** A pointer to a struct or slice herald does not model: accepted as any JSON, kept as plain JS. */
  | { readonly t: 'opaque' };

export type GoIntType = 'int' | 'int32' | 'int64' | 'uint64' | 'time.Duration';

/** A Go struct: its type name (for error texts) and its JSON fields. */
export interface GoStruct {
  readonly name: string;
  readonly fields: Readonly<Record<string, GoField>>;
}

/** Decoded object: field name → JS value (number, string, boolean, string[], record, nested object). */
export type Decoded = Record<string, unknown>;

/** Deeper nesting is refused with Go's "exceeded max depth" text. Go allows 10000; the parser here
 * recurses, so it stops at 1000, far beyond any real request, to keep the stack bounded. */
const MAX_NESTING_DEPTH = 1000;

const INT_RANGES: Record<GoIntType, readonly [bigint, bigint]> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  'time.Duration': [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

type JVal =
  | { k: 'obj'; entries: [string, JVal][] }
  | { k: 'arr'; items: JVal[] }
  | { k: 'str'; v: string }
  | { k: 'num'; raw: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' };

class GoJsonError extends Error {}

/**
 * Decodes `body` into a fresh object shaped by `schema`. Returns the Go error text on failure
 * (callers wrap it as `invalid JSON: <text>`). An empty or all-whitespace body decodes to `{}`.
 * `lenient` ignores unknown keys, as Go's plain `json.Unmarshal` does (DIRECT.GET uses that).
 */
export function decodeGoJson(
  body: Buffer,
  schema: GoStruct,
  lenient = false,
): { value: Decoded; error: null } | { value: null; error: string } {
  const out: Decoded = {};
  const p = new Parser(body);
  try {
    for (;;) {
      const v = p.nextValue();
      if (v === null) break;
      const err = decodeTop(v, schema, out, lenient);
      if (err !== null) return { value: null, error: err };
    }
  } catch (e) {
    if (e instanceof GoJsonError) return { value: null, error: e.message };
    throw e;
  }
  return { value: out, error: null };
}

/** True when the body's first non-blank byte opens an object or array (nats-server isJSONObjectOrArray). */
export function isJsonObjectOrArray(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b || c === 0x5b;
  }
  return false;
}

/** nats-server isEmptyRequest: no bytes, `{}`, or any JSON object without keys. */
export function isEmptyRequest(body: Buffer): boolean {
  if (body.length === 0) return true;
  const p = new Parser(body);
  try {
    const v = p.nextValue();
    if (v === null || v.k !== 'obj' || v.entries.length !== 0) return false;
    return p.nextValue() === null;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding a parsed value against a schema, collecting Go's "saved" errors (first one wins) and
// aborting on errors Go returns at once (custom UnmarshalJSON failures).

interface Ctx {
  saved: string | null;
  lenient: boolean;
}

function decodeTop(v: JVal, schema: GoStruct, out: Decoded, lenient: boolean): string | null {
  const ctx: Ctx = { saved: null, lenient };
  if (v.k === 'null') return null;
  if (v.k !== 'obj') return `json: cannot unmarshal ${kindName(v)} into Go value of type server.${schema.name}`;
  decodeStruct(v, schema, out, [], ctx);
  return ctx.saved;
}

function save(ctx: Ctx, msg: string): void {
  if (ctx.saved === null) ctx.saved = msg;
}

function typeError(ctx: Ctx, value: string, struct: GoStruct, path: string[], goType: string): void {
  save(ctx, `json: cannot unmarshal ${value} into Go struct field ${struct.name}.${path.join('.')} of type ${goType}`);
}

function kindName(v: JVal): string {
  switch (v.k) {
    case 'obj':
      return 'object';
    case 'arr':
      return 'array';
    case 'str':
      return 'string';
    case 'num':
      return 'number';
    case 'bool':
      return 'bool';
    case 'null':
      return 'null';
  }
}

function lookupField(schema: GoStruct, key: string): [string, GoField] | null {
  // Own keys only: `constructor` and friends are unknown fields, as Go would say.
  if (Object.hasOwn(schema.fields, key)) return [key, schema.fields[key]];
  const lower = key.toLowerCase();
  for (const name of Object.keys(schema.fields)) {
    if (name.toLowerCase() === lower) return [name, schema.fields[name]];
  }
  return null;
}

function decodeStruct(v: { entries: [string, JVal][] }, schema: GoStruct, out: Decoded, path: string[], ctx: Ctx): void {
  for (const [key, val] of v.entries) {
    const f = lookupField(schema, key);
    if (f === null) {
      if (!ctx.lenient) save(ctx, `json: unknown field ${goQuote(key)}`);
      continue;
    }
    const [name, spec] = f;
    decodeField(val, spec, name, schema, out, [...path, name], ctx);
  }
}

function decodeField(v: JVal, spec: GoField, name: string, owner: GoStruct, out: Decoded, path: string[], ctx: Ctx): void {
  switch (spec.t) {
    case 'enum': {
      // A custom UnmarshalJSON sees the raw literal, null included, and its error aborts decoding.
      const raw = rawText(v);
      if (v.k === 'str') {
        const s = spec.fold === true ? v.v.toLowerCase() : v.v;
        if (spec.values.includes(s)) {
          out[name] = s;
          return;
        }
      }
      throw new GoJsonError(`can not unmarshal ${goQuote(raw)}`);
    }
    case 'compression': {
      if (v.k === 'null') throw new GoJsonError('unknown compression algorithm');
      if (v.k !== 'str') throw new GoJsonError(`json: cannot unmarshal ${kindName(v)} into Go value of type string`);
      if (v.v !== 's2' && v.v !== 'none') throw new GoJsonError('unknown compression algorithm');
      out[name] = v.v;
      return;
    }
    default:
      break;
  }
  if (v.k === 'null') return;
  switch (spec.t) {
    case 'string':
      if (v.k === 'str') out[name] = v.v;
      else typeError(ctx, kindName(v), owner, path, 'string');
      return;
    case 'bool':
      if (v.k === 'bool') out[name] = v.v;
      else typeError(ctx, kindName(v), owner, path, 'bool');
      return;
    case 'int': {
      if (v.k !== 'num') {
        typeError(ctx, kindName(v), owner, path, spec.go);
        return;
      }
      const n = parseGoInt(v.raw, spec.go);
      if (n === null) typeError(ctx, `number ${v.raw}`, owner, path, spec.go);
      else out[name] = n;
      return;
    }
    case 'strings': {
      if (v.k !== 'arr') {
        typeError(ctx, kindName(v), owner, path, '[]string');
        return;
      }
      const arr: string[] = [];
      for (const item of v.items) {
        if (item.k === 'str') arr.push(item.v);
        else if (item.k === 'null') arr.push('');
        else {
          typeError(ctx, kindName(item), owner, path, 'string');
          arr.push('');
        }
      }
      out[name] = arr;
      return;
    }
    case 'strmap': {
      if (v.k !== 'obj') {
        typeError(ctx, kindName(v), owner, path, 'map[string]string');
        return;
      }
      const prev = out[name];
      const m: Record<string, string> = prev !== null && typeof prev === 'object' ? (prev as Record<string, string>) : {};
      for (const [k, item] of v.entries) {
        if (item.k === 'str') m[k] = item.v;
        else if (item.k === 'null') m[k] = '';
        else typeError(ctx, kindName(item), owner, [...path, k], 'string');
      }
      out[name] = m;
      return;
    }
    case 'struct': {
      if (v.k !== 'obj') {
        typeError(ctx, kindName(v), owner, path, `server.${spec.struct.name}`);
        return;
      }
      const prev = out[name];
      const inner: Decoded = prev !== null && typeof prev === 'object' ? (prev as Decoded) : {};
      out[name] = inner;
      for (const [key, val] of v.entries) {
        const f = lookupField(spec.struct, key);
        if (f === null) {
          if (!ctx.lenient) save(ctx, `json: unknown field ${goQuote(key)}`);
          continue;
        }
        decodeField(val, f[1], f[0], spec.struct, inner, [...path, f[0]], ctx);
      }
      return;
    }
    case 'opaque':
      out[name] = toPlain(v);
      return;
  }
}

/** Go's ParseInt/ParseUint on the literal, then the target's range; null when Go would refuse. */
function parseGoInt(raw: string, go: GoIntType): number | null {
  if (!/^-?(0|[1-9][0-9]*)$/.test(raw)) return null;
  const b = BigInt(raw);
  const [lo, hi] = INT_RANGES[go];
  if (b < lo || b > hi) return null;
  // Values past 2^53 keep their magnitude; the low bits are rounded (documented in docs/jetstream.md).
  return Number(b);
}

function toPlain(v: JVal): unknown {
  switch (v.k) {
    case 'obj': {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v.entries) o[k] = toPlain(x);
      return o;
    }
    case 'arr':
      return v.items.map(toPlain);
    case 'str':
      return v.v;
    case 'num':
      return Number(v.raw);
    case 'bool':
      return v.v;
    case 'null':
      return null;
  }
}

/** The JSON text of a scalar as a custom UnmarshalJSON would see it (objects abbreviated). */
function rawText(v: JVal): string {
  switch (v.k) {
    case 'str':
      return JSON.stringify(v.v);
    case 'num':
      return v.raw;
    case 'bool':
      return v.v ? 'true' : 'false';
    case 'null':
      return 'null';
    default:
      return JSON.stringify(toPlain(v));
  }
}

/**
 * Go's %q (strconv.Quote): the one quoting of strings nats-server puts in its texts, both JSON
 * decode errors here and the NATS door's permission errors. Printable characters stay, the
 * usual escapes are used, other control bytes become \xNN and C1 controls \uNNNN.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c !== 0x7f && (c < 0x80 || c >= 0xa0)) out += ch;
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x80) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** Go's quoteChar for a byte in a syntax error. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const q = goQuote(String.fromCharCode(c));
  return "'" + q.slice(1, -1) + "'";
}

// ---------------------------------------------------------------------------------------------
// A byte parser with Go's scanner messages. Offsets count bytes from the start of the body,
// one past the offending byte, as Go's Decoder reports them.

const enum Ch {
  Space = 0x20,
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  LBrace = 0x7b,
  RBrace = 0x7d,
  LBracket = 0x5b,
  RBracket = 0x5d,
  Minus = 0x2d,
  Plus = 0x2b,
  Dot = 0x2e,
  Zero = 0x30,
  Nine = 0x39,
}

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Tab || c === Ch.Lf || c === Ch.Cr;
}

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly b: Buffer) {}

  /** The next top-level value, or null at the end of the body. */
  nextValue(): JVal | null {
    this.skipSpace();
    if (this.i >= this.b.length) return null;
    return this.value('looking for beginning of value');
  }

  private fail(context: string): never {
    if (this.i >= this.b.length) throw new GoJsonError('unexpected EOF');
    throw new GoJsonError(`invalid character ${quoteChar(this.b[this.i])} ${context} at offset ${this.i + 1}`);
  }

  private skipSpace(): void {
    while (this.i < this.b.length && isSpace(this.b[this.i])) this.i++;
  }

  private value(context: string): JVal {
    this.skipSpace();
    if (this.i >= this.b.length) this.fail(context);
    const c = this.b[this.i];
    switch (c) {
      case Ch.LBrace:
        return this.object();
      case Ch.LBracket:
        return this.array();
      case Ch.Quote:
        return { k: 'str', v: this.string() };
      case 0x74: // t
        this.literal('true');
        return { k: 'bool', v: true };
      case 0x66: // f
        this.literal('false');
        return { k: 'bool', v: false };
      case 0x6e: // n
        this.literal('null');
        return { k: 'null' };
      default:
        if (c === Ch.Minus || isDigit(c)) return { k: 'num', raw: this.number() };
        this.fail(context);
    }
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) throw new GoJsonError(`exceeded max depth at offset ${this.i + 1}`);
  }

  private object(): JVal {
    this.enter();
    this.i++; // {
    const entries: [string, JVal][] = [];
    this.skipSpace();
    if (this.i < this.b.length && this.b[this.i] === Ch.RBrace) {
      this.i++;
      this.depth--;
      return { k: 'obj', entries };
    }
    for (;;) {
      this.skipSpace();
      if (this.i >= this.b.length || this.b[this.i] !== Ch.Quote) this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.i >= this.b.length || this.b[this.i] !== Ch.Colon) this.fail('after object key');
      this.i++;
      entries.push([key, this.value('looking for beginning of value')]);
      this.skipSpace();
      if (this.i >= this.b.length) this.fail('after object key:value pair');
      const c = this.b[this.i];
      if (c === Ch.Comma) {
        this.i++;
        continue;
      }
      if (c === Ch.RBrace) {
        this.i++;
        this.depth--;
        return { k: 'obj', entries };
      }
      this.fail('after object key:value pair');
    }
  }

  private array(): JVal {
    this.enter();
    this.i++; // [
    const items: JVal[] = [];
    this.skipSpace();
    if (this.i < this.b.length && this.b[this.i] === Ch.RBracket) {
      this.i++;
      this.depth--;
      return { k: 'arr', items };
    }
    for (;;) {
      items.push(this.value('looking for beginning of value'));
      this.skipSpace();
      if (this.i >= this.b.length) this.fail('after array element');
      const c = this.b[this.i];
      if (c === Ch.Comma) {
        this.i++;
        continue;
      }
      if (c === Ch.RBracket) {
        this.i++;
        this.depth--;
        return { k: 'arr', items };
      }
      this.fail('after array element');
    }
  }

  private literal(word: string): void {
    const first = word.charCodeAt(0);
    if (this.b[this.i] !== first) this.fail('looking for beginning of value');
    this.i++;
    for (let k = 1; k < word.length; k++) {
      if (this.i >= this.b.length) this.fail('');
      if (this.b[this.i] !== word.charCodeAt(k)) this.fail(`in literal ${word} (expecting '${word[k]}')`);
      this.i++;
    }
  }

  private number(): string {
    const start = this.i;
    const b = this.b;
    if (b[this.i] === Ch.Minus) {
      this.i++;
      if (this.i >= b.length) this.fail('');
      if (!isDigit(b[this.i])) this.fail('in numeric literal');
    }
    if (b[this.i] === Ch.Zero) this.i++;
    else while (this.i < b.length && isDigit(b[this.i])) this.i++;
    if (this.i < b.length && b[this.i] === Ch.Dot) {
      this.i++;
      if (this.i >= b.length) this.fail('');
      if (!isDigit(b[this.i])) this.fail('after decimal point in numeric literal');
      while (this.i < b.length && isDigit(b[this.i])) this.i++;
    }
    if (this.i < b.length && (b[this.i] === 0x65 || b[this.i] === 0x45)) {
      this.i++;
      if (this.i < b.length && (b[this.i] === Ch.Plus || b[this.i] === Ch.Minus)) this.i++;
      if (this.i >= b.length) this.fail('');
      if (!isDigit(b[this.i])) this.fail('in exponent of numeric literal');
      while (this.i < b.length && isDigit(b[this.i])) this.i++;
    }
    return b.toString('latin1', start, this.i);
  }

  private string(): string {
    const b = this.b;
    this.i++; // opening quote
    let out = '';
    let runStart = this.i;
    for (;;) {
      if (this.i >= b.length) this.fail('');
      const c = b[this.i];
      if (c === Ch.Quote) {
        out += b.toString('utf8', runStart, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('in string literal');
      if (c !== Ch.Backslash) {
        this.i++;
        continue;
      }
      out += b.toString('utf8', runStart, this.i);
      this.i++;
      if (this.i >= b.length) this.fail('');
      const e = b[this.i];
      switch (e) {
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case Ch.Backslash:
        case 0x2f:
        case Ch.Quote:
          out += String.fromCharCode(e);
          break;
        case 0x75: {
          let code = 0;
          for (let k = 0; k < 4; k++) {
            this.i++;
            if (this.i >= b.length) this.fail('');
            const h = b[this.i];
            const d = isDigit(h) ? h - Ch.Zero : h >= 0x61 && h <= 0x66 ? h - 0x57 : h >= 0x41 && h <= 0x46 ? h - 0x37 : -1;
            if (d < 0) this.fail('in \\u hexadecimal character escape');
            code = code * 16 + d;
          }
          out += String.fromCharCode(code);
          break;
        }
        default:
          this.fail('in string escape code');
      }
      this.i++;
      runStart = this.i;
    }
  }
}
