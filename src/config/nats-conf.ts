/**
 * Parser for the NATS configuration format (the syntax `nats-server -c` accepts), written from
 * the behaviour of nats-server's conf/lex.go + conf/parse.go. herald's own config file uses the
 * same syntax. Supported:
 *
 * - assignments `key: value`, `key = value`, `key value`; entries end at a new line, `,` or `;`
 * - maps `key { … }` (also `key: { … }`), arrays `[ … ]` (comma or new-line separated), and an
 *   optional `{ … }` around the whole file (JSON-style)
 * - strings: `"double"` (escapes `\t \n \r \" \\ \xHH`), `'single'` (raw), bare words, and
 *   `( … )` blocks ending at a `)` alone on a line
 * - integers with size suffixes exactly as nats-server reads them: `1K`/`1k` = 1000,
 *   `1KB`/`1Ki`/`1KiB` = 1024, likewise M, G, T, P, E; floats; booleans
 *   `true|false|yes|no|on|off` (any case); ISO 8601 Zulu datetimes (`2006-01-02T15:04:05Z`)
 * - a value starting with a digit that is not a number (`10s`, `200ms`, `2hello`) is a string,
 *   dotted addresses (`127.0.0.1:4222`, `127.0.0.1:-1`) are strings
 * - `#` and `//` comments; `include <file>` (path relative to the including file)
 * - `$NAME` variables: a key defined earlier in an enclosing map, else the environment variable
 *   (whose text is parsed as a value); `$2a$…` bcrypt hashes stay strings
 *
 * Deliberate tolerances beyond nats-server (inputs it rejects or mangles): a bare key also ends
 * at `{` or `[` (`jetstream{…}`), a number directly followed by `]` ends there (`[1]`), and a bare
 * array value may start with `/`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfLocation } from './errors.js';

/** A parsed config value. Integers and floats are both `number`; datetimes are `Date`. */
export type ConfValue = string | number | boolean | Date | ConfValue[] | ConfMap;

/** A parsed map (the whole file, or a `{ … }` block). Keys keep their spelling and order. */
export interface ConfMap {
  [key: string]: ConfValue;
}

/** How to parse: the name used in messages and for resolving includes, and where to read from. */
export interface ConfParseOptions {
  /** File the text came from: named in errors, and includes resolve against its directory. */
  file?: string;
  /** Environment for `$VAR` lookups; `process.env` when omitted. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads an included file; `fs.readFileSync(path, 'utf8')` when omitted. */
  readFile?: (path: string) => string;
}

/** Deepest nesting of maps and arrays; real configs nest 3-4 deep, and this keeps hostile input from overflowing the stack. */
const MAX_NESTING = 64;
/** Deepest chain of includes; nats-server has no cycle check, so a self-include would recurse forever. */
const MAX_INCLUDE_DEPTH = 10;
/** nats-server keeps bare bcrypt hashes (`$2a$…`) as strings instead of reading them as variables. */
const BCRYPT_PREFIX = '2a$';
/** Name used in messages for text that came from no file. */
const NO_FILE = '<config>';

/** Multipliers for integer suffixes, as nats-server's parser applies them (lower-cased suffix). */
const SIZE_MULTIPLIERS: Readonly<Record<string, number>> = (() => {
  const m: Record<string, number> = { '': 1 };
  const letters = ['k', 'm', 'g', 't', 'p', 'e'];
  letters.forEach((l, i) => {
    m[l] = 1000 ** (i + 1);
    m[`${l}b`] = m[`${l}i`] = m[`${l}ib`] = 1024 ** (i + 1);
  });
  return m;
})();

/** Where each key of a parsed map (or element of an array) was written; filled by the parser. */
const locations = new WeakMap<object, Map<string | number, ConfLocation>>();

/** Keys of each parsed map that a `$NAME` elsewhere in the file referred to; filled by the parser. */
const usedAsVariable = new WeakMap<object, Set<string>>();

/**
 * True when `container[key]` is a variable the file refers to (`PERM: {...}` then `$PERM`):
 * nats-server does not report such a key as an unknown field (token.IsUsedVariable), so neither
 * does herald.
 */
export function isUsedVariable(container: object, key: string): boolean {
  return usedAsVariable.get(container)?.has(key) === true;
}

/**
 * Where `container[key]` was written, if `container` came from this parser (for error messages
 * that point at the line). Returns undefined for objects built by hand.
 */
export function confLocation(container: object, key: string | number): ConfLocation | undefined {
  return locations.get(container)?.get(key);
}

/**
 * Parses NATS-conf text into a plain object. Guarantees: returns a fresh object tree whose maps
 * have only own, enumerable keys (a key named `__proto__` is an ordinary key); throws only
 * `ConfigError`, whose message names the file, line and column and what was expected.
 */
export function parseNatsConf(text: string, options: ConfParseOptions = {}): ConfMap {
  const shared: Shared = {
    env: options.env ?? process.env,
    readFile: options.readFile ?? ((p: string) => readFileSync(p, 'utf8')),
    envRefs: new Set(),
  };
  return new Parser(text, options.file ?? NO_FILE, options.file !== undefined, shared, 0).parseDocument();
}

/**
 * Reads and parses a NATS-conf file (includes resolve against its directory). Throws
 * `ConfigError` when the file cannot be read or parsed.
 */
export function parseNatsConfFile(path: string, options: Omit<ConfParseOptions, 'file'> = {}): ConfMap {
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    throw new ConfigError(`cannot read config file '${path}': ${errnoText(e)}`);
  }
  return parseNatsConf(text, { ...options, file: path });
}

/** State shared by a parser and the parsers it starts for includes and environment values. */
interface Shared {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
  /** Environment variables being expanded right now, to report reference cycles. */
  envRefs: Set<string>;
}

/** Context of one value: the key path for messages and how deep in maps/arrays it sits. */
interface ValueCtx {
  key: string;
  depth: number;
}

const EOF = '';

function isSpace(c: string): boolean {
  return c !== EOF && /\s/.test(c);
}
function isInlineSpace(c: string): boolean {
  return c === ' ' || c === '\t';
}
function isNL(c: string): boolean {
  return c === '\n' || c === '\r';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9' && c.length === 1;
}
function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}
function isSuffixLetter(c: string): boolean {
  return c !== EOF && 'kKmMgGtTpPeE'.includes(c);
}
/** Characters that end a bare (unquoted) string value. */
function endsBare(c: string): boolean {
  return c === EOF || isNL(c) || isInlineSpace(c) || c === ';' || c === ',' || c === ']' || c === '}';
}
/** Characters that may follow a plain integer (anything else makes it a string like `10s`). */
function endsNumber(c: string): boolean {
  return c === EOF || isNL(c) || isInlineSpace(c) || c === ';' || c === ',' || c === ']' || c === '}';
}

/** Renders one source character for a message. */
function showChar(c: string): string {
  if (c === EOF) return 'end of file';
  if (c === '\n' || c === '\r') return 'a new line';
  return `'${c}'`;
}

function errnoText(e: unknown): string {
  if (e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string') {
    return e.code === 'ENOENT' ? 'no such file' : e.code;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Builds a string from text and raw `\xHH` bytes, decoding the result as UTF-8 like Go would. */
class StringBuilder {
  private readonly parts: Buffer[] = [];
  text(s: string): void {
    if (s.length > 0) this.parts.push(Buffer.from(s, 'utf8'));
  }
  byte(b: number): void {
    this.parts.push(Buffer.from([b]));
  }
  toString(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
}

function setKey(map: ConfMap, key: string, value: ConfValue, loc: ConfLocation): void {
  // defineProperty, not assignment: a key named `__proto__` must stay an ordinary key.
  Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  let m = locations.get(map);
  if (m === undefined) locations.set(map, (m = new Map()));
  m.set(key, loc);
}

function newMap(): ConfMap {
  return {};
}

/** A recursive-descent parser over one text (a file, an included file or an environment value). */
class Parser {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  /** Maps being built, outermost first: the scopes `$VAR` looks in. */
  private readonly scopes: ConfMap[] = [];

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly fromFile: boolean,
    private readonly shared: Shared,
    private readonly includeDepth: number,
  ) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  parseDocument(): ConfMap {
    const root = newMap();
    this.scopes.push(root);
    this.skipTrivia();
    if (this.peek() === '{') {
      const open = this.pos++;
      this.parseEntries(root, open, false);
      this.skipTrivia();
      if (this.peek() !== EOF) this.fail(`expected end of file after the closing '}', found ${showChar(this.peek())}`);
    } else {
      this.parseEntries(root, null, false);
    }
    return root;
  }

  // ---- positions and errors ----

  private locate(pos: number): ConfLocation {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: pos - this.lineStarts[lo]! + 1 };
  }

  private fail(message: string, pos = this.pos): never {
    throw new ConfigError(message, { location: this.locate(pos) });
  }

  private peek(offset = 0): string {
    const i = this.pos + offset;
    return i < this.src.length ? this.src[i]! : EOF;
  }

  /** Skips white space (new lines included) and comments. */
  private skipTrivia(): void {
    for (;;) {
      const c = this.peek();
      if (isSpace(c)) this.pos++;
      else if (c === '#' || (c === '/' && this.peek(1) === '/')) this.skipComment();
      else return;
    }
  }

  private skipComment(): void {
    while (this.peek() !== EOF && !isNL(this.peek())) this.pos++;
  }

  private skipInline(): void {
    while (isInlineSpace(this.peek())) this.pos++;
  }

  // ---- entries ----

  /**
   * Parses `key value` entries into `map` until `}` (when `open` is the position of its `{`) or
   * end of input. `inMap` is true for `key { … }` maps, where a value may start on the next line.
   */
  private parseEntries(map: ConfMap, open: number | null, inMap: boolean, depth = 0): void {
    for (;;) {
      this.skipTrivia();
      const c = this.peek();
      if (c === EOF) {
        if (open !== null) this.fail(`expected '}' to close the map opened at line ${this.locate(open).line}, found end of file`);
        return;
      }
      if (c === '}') {
        if (open === null) this.fail(`unexpected '}' with no open map`);
        this.pos++;
        return;
      }
      if (c === ']' || c === ',' || c === ';' || c === '=' || c === ':' || c === '{' || c === '[') {
        this.fail(`expected a key, found '${c}'`);
      }
      this.parseEntry(map, open !== null, inMap, depth);
    }
  }

  private parseEntry(map: ConfMap, closable: boolean, inMap: boolean, depth: number): void {
    const keyPos = this.pos;
    const { key, quoted } = this.parseKey();
    if (!quoted && key.toLowerCase() === 'include' && isInlineSpace(this.peek())) {
      this.parseInclude(map);
      this.expectEntryEnd('include', closable);
      return;
    }
    while (isSpace(this.peek())) this.pos++;
    const sep = this.peek();
    if (sep === '=' || sep === ':') {
      this.pos++;
      if (inMap) while (isSpace(this.peek())) this.pos++;
      else this.skipInline();
    }
    const value = this.parseValue({ key, depth });
    setKey(map, key, value, this.locate(keyPos));
    this.expectEntryEnd(key, closable);
  }

  private parseKey(): { key: string; quoted: boolean } {
    const q = this.peek();
    if (q === '"' || q === "'") {
      const start = this.pos;
      const end = this.src.indexOf(q, start + 1);
      if (end < 0) this.fail(`unterminated quoted key: expected a closing ${q}`, start);
      this.pos = end + 1;
      return { key: this.src.slice(start + 1, end), quoted: true };
    }
    const start = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === EOF || isSpace(c) || c === '=' || c === ':' || c === '{' || c === '[') break;
      this.pos++;
    }
    return { key: this.src.slice(start, this.pos), quoted: false };
  }

  /** After a value: spaces, an optional comment, then a new line, `,`, `;`, `}` or end of file. */
  private expectEntryEnd(key: string, closable: boolean): void {
    this.skipInline();
    let c = this.peek();
    if (c === '#' || (c === '/' && this.peek(1) === '/')) {
      this.skipComment();
      c = this.peek();
    }
    if (isNL(c) || c === ',' || c === ';') {
      this.pos++;
      return;
    }
    if (c === EOF || (c === '}' && closable)) return;
    this.fail(
      `expected a new line, ',' or ';' after the value of '${key}', found ${showChar(c)}` +
        ` (quote values that contain spaces or start with a digit, e.g. "1.5s")`,
    );
  }

  // ---- values ----

  private parseValue(ctx: ValueCtx): ConfValue {
    const c = this.peek();
    if (c === EOF) this.fail(`expected a value for '${ctx.key}', found end of file`);
    if (isNL(c)) this.fail(`expected a value for '${ctx.key}' on the same line, found a new line`);
    switch (c) {
      case '[':
        return this.parseArray(ctx);
      case '{': {
        if (ctx.depth + 1 > MAX_NESTING) this.fail(`maps and arrays nest deeper than ${MAX_NESTING} levels`);
        const open = this.pos++;
        const map = newMap();
        this.scopes.push(map);
        this.parseEntries(map, open, true, ctx.depth + 1);
        this.scopes.pop();
        return map;
      }
      case "'":
        return this.parseRawString();
      case '"':
        return this.parseQuotedString();
      case '(':
        return this.parseBlock();
      case '-':
        return this.parseNumberish(ctx, true);
      case '.':
        this.fail(`floats must start with a digit (write 0.5, not .5)`);
      case ']':
      case '}':
      case ',':
      case ';':
        this.fail(`expected a value for '${ctx.key}', found '${c}'`);
    }
    if (isDigit(c)) return this.parseNumberish(ctx, false);
    return this.parseBare(this.pos, ctx);
  }

  private parseArray(ctx: ValueCtx): ConfValue[] {
    if (ctx.depth + 1 > MAX_NESTING) this.fail(`maps and arrays nest deeper than ${MAX_NESTING} levels`);
    const open = this.pos++;
    const arr: ConfValue[] = [];
    const unterminated = (): never =>
      this.fail(`expected ']' to close the array opened at line ${this.locate(open).line}, found end of file`);
    for (;;) {
      this.skipTrivia();
      const c = this.peek();
      if (c === EOF) unterminated();
      if (c === ']') {
        this.pos++;
        return arr;
      }
      if (c === ',') this.fail(`unexpected ',' in array: expected a value or ']'`);
      const at = this.pos;
      const v = this.parseValue({ key: `${ctx.key}[${arr.length}]`, depth: ctx.depth + 1 });
      let m = locations.get(arr);
      if (m === undefined) locations.set(arr, (m = new Map()));
      m.set(arr.length, this.locate(at));
      arr.push(v);
      this.skipInline();
      let d = this.peek();
      if (d === '#' || (d === '/' && this.peek(1) === '/')) {
        this.skipComment();
        d = this.peek();
      }
      if (d === ',' || isNL(d)) this.pos++;
      else if (d === ']') {
        this.pos++;
        return arr;
      } else if (d === EOF) unterminated();
      else this.fail(`expected ',' or ']' after an array value, found ${showChar(d)}`);
    }
  }

  private parseRawString(): string {
    const start = this.pos;
    const end = this.src.indexOf("'", start + 1);
    if (end < 0) this.fail(`unterminated string: expected a closing '`, start);
    this.pos = end + 1;
    return this.src.slice(start + 1, end);
  }

  private parseQuotedString(): string {
    const start = this.pos++;
    const sb = new StringBuilder();
    let run = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === EOF) this.fail(`unterminated string: expected a closing "`, start);
      if (c === '"') {
        sb.text(this.src.slice(run, this.pos));
        this.pos++;
        return sb.toString();
      }
      if (c === '\\') {
        sb.text(this.src.slice(run, this.pos));
        this.parseEscape(sb);
        run = this.pos;
      } else this.pos++;
    }
  }

  /** Reads one escape sequence (the `\` is at `pos`) into `sb`. */
  private parseEscape(sb: StringBuilder): void {
    const at = this.pos;
    const e = this.peek(1);
    this.pos += 2;
    switch (e) {
      case 't':
        return sb.text('\t');
      case 'n':
        return sb.text('\n');
      case 'r':
        return sb.text('\r');
      case '"':
        return sb.text('"');
      case '\\':
        return sb.text('\\');
      case 'x': {
        const h = this.src.slice(this.pos, this.pos + 2);
        if (h.length < 2 || !isHex(h[0]!) || !isHex(h[1]!)) {
          this.fail(`expected two hexadecimal digits after '\\x', found ${JSON.stringify(h)}`, at);
        }
        this.pos += 2;
        return sb.byte(parseInt(h, 16));
      }
    }
    this.fail(`invalid escape '\\${e === EOF ? '' : e}': only \\xXX, \\t, \\n, \\r, \\" and \\\\ are allowed`, at);
  }

  private parseBlock(): string {
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const j = this.src.indexOf('\n)', i);
      if (j < 0) this.fail(`unterminated '(' block: expected ')' alone on a line`, start);
      const after = this.src[j + 2];
      if (after === undefined || after === '\n') {
        this.pos = j + 2;
        return this.src.slice(start + 1, j + 1);
      }
      i = j + 1;
    }
  }

  /**
   * A value starting with a digit or `-`: an integer (maybe with a size suffix), a float, a
   * datetime, a dotted address (string), or a string that merely starts with a digit.
   */
  private parseNumberish(ctx: ValueCtx, negative: boolean): ConfValue {
    const start = this.pos;
    if (negative) {
      this.pos++;
      const d = this.peek();
      if (d === '.') this.fail(`floats must start with a digit (write -0.5, not -.5)`);
      if (!isDigit(d)) this.fail(`expected a digit after '-', found ${showChar(d)}`);
    }
    while (isDigit(this.peek())) this.pos++;
    const c = this.peek();
    if (c === '-' && !negative) return this.parseDate(start);
    if (c === '.') {
      this.pos++;
      if (!isDigit(this.peek())) this.fail(`floats need a digit after the '.', found ${showChar(this.peek())}`);
      while (isDigit(this.peek())) this.pos++;
      if (this.peek() === '.') {
        // A second dot: an address such as 127.0.0.1:4222 or 127.0.0.1:-1, kept as a string.
        while (/^[0-9.:-]$/.test(this.peek())) this.pos++;
        return this.src.slice(start, this.pos);
      }
      return Number(this.src.slice(start, this.pos));
    }
    if (isSuffixLetter(c)) {
      const digitsEnd = this.pos;
      this.pos++;
      while ('bBiI'.includes(this.peek()) && this.peek() !== EOF) this.pos++;
      if (endsNumber(this.peek()) || isDigit(this.peek())) return this.toInteger(start, digitsEnd);
      return this.parseBare(start, ctx);
    }
    if (endsNumber(c) || negative) return this.toInteger(start, this.pos);
    return this.parseBare(start, ctx);
  }

  /** Converts `src[start..pos)` (digits from `start` to `digitsEnd`, then a suffix) to a number. */
  private toInteger(start: number, digitsEnd: number): number {
    const text = this.src.slice(start, this.pos);
    const suffix = this.src.slice(digitsEnd, this.pos).toLowerCase();
    const mult = Object.hasOwn(SIZE_MULTIPLIERS, suffix) ? SIZE_MULTIPLIERS[suffix] : undefined;
    if (mult === undefined) {
      this.fail(
        `unknown size suffix in ${JSON.stringify(text)}: use K, M, G, T, P, E (powers of 1000) or KB/KiB, MB/MiB, … (powers of 1024)`,
        start,
      );
    }
    const n = Number(this.src.slice(start, digitsEnd)) * mult;
    if (!Number.isSafeInteger(n))
      this.fail(`integer ${JSON.stringify(text)} is out of range (largest is ${Number.MAX_SAFE_INTEGER})`, start);
    return n === 0 ? 0 : n; // no -0
  }

  /** An ISO 8601 Zulu datetime; `pos` is at the '-' after what must be a 4-digit year. */
  private parseDate(start: number): Date {
    const form = 'full ISO 8601 Zulu form, like 2006-01-02T15:04:05Z';
    if (this.pos - start !== 4) this.fail(`dates must be written in ${form}`, start);
    const pattern = '-00-00T00:00:00Z';
    for (const p of pattern) {
      const c = this.peek();
      if (p === '0' ? !isDigit(c) : c !== p)
        this.fail(`expected ${p === '0' ? 'a digit' : `'${p}'`} in a datetime, found ${showChar(c)} (dates must be in ${form})`);
      this.pos++;
    }
    const text = this.src.slice(start, this.pos);
    const d = new Date(text);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 19) !== text.slice(0, 19)) {
      this.fail(`${text} is not a valid date and time`, start);
    }
    return d;
  }

  /** A bare word starting at `start`: a string, a boolean or a `$variable`. */
  private parseBare(start: number, ctx: ValueCtx): ConfValue {
    this.pos = start;
    const sb = new StringBuilder();
    let run = start;
    let escaped = false;
    let end: number;
    for (;;) {
      const c = this.peek();
      if (endsBare(c)) {
        end = this.pos;
        break;
      }
      if (c === "'") {
        // nats-server ends a bare word at a single quote and drops the quote.
        end = this.pos++;
        break;
      }
      if (c === '\\') {
        sb.text(this.src.slice(run, this.pos));
        this.parseEscape(sb);
        run = this.pos;
        escaped = true;
      } else this.pos++;
    }
    sb.text(this.src.slice(run, end));
    const word = sb.toString();
    if (escaped) return word;
    switch (word.toLowerCase()) {
      case 'true':
      case 'yes':
      case 'on':
        return true;
      case 'false':
      case 'no':
      case 'off':
        return false;
    }
    if (word.startsWith('$')) return this.lookupVariable(word.slice(1), start, ctx);
    return word;
  }

  // ---- variables and includes ----

  private lookupVariable(name: string, at: number, ctx: ValueCtx): ConfValue {
    if (name.startsWith(BCRYPT_PREFIX)) return `$${name}`;
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      if (Object.hasOwn(scope, name)) {
        const used = usedAsVariable.get(scope) ?? new Set<string>();
        used.add(name);
        usedAsVariable.set(scope, used);
        return scope[name]!;
      }
    }
    const { env, envRefs } = this.shared;
    if (envRefs.has(name)) this.fail(`variable '$${name}' refers to itself through the environment`, at);
    const raw = Object.hasOwn(env, name) ? env[name] : undefined;
    if (raw === undefined) {
      this.fail(
        `variable '$${name}' (value of '${ctx.key}') is not defined: set '${name}' earlier in the file or in the environment`,
        at,
      );
    }
    if (raw.trim() === '') return '';
    envRefs.add(name);
    try {
      const parsed = new Parser(
        `pk=${raw}`,
        `environment variable ${name}`,
        false,
        this.shared,
        this.includeDepth,
      ).parseDocument();
      if (!Object.hasOwn(parsed, 'pk')) this.fail(`environment variable ${name} has no value`, at);
      return parsed['pk']!;
    } catch (e) {
      if (e instanceof ConfigError && e.location?.file === `environment variable ${name}`) {
        this.fail(`environment variable ${name}=${JSON.stringify(raw)} is not a valid value: ${e.reason}`, at);
      }
      throw e;
    } finally {
      envRefs.delete(name);
    }
  }

  private parseInclude(map: ConfMap): void {
    const at = this.pos;
    this.skipInline();
    const c = this.peek();
    let name: string;
    if (c === '"' || c === "'") {
      const end = this.src.indexOf(c, this.pos + 1);
      if (end < 0) this.fail(`unterminated include file name: expected a closing ${c}`);
      name = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      if (c === EOF || isNL(c) || '[{(-\\'.includes(c) || isDigit(c)) {
        this.fail(`expected a file name after 'include', found ${showChar(c)}`);
      }
      const start = this.pos;
      while (!(endsBare(this.peek()) || this.peek() === "'")) this.pos++;
      name = this.src.slice(start, this.pos);
      if (this.peek() === "'") this.pos++;
    }
    if (this.includeDepth + 1 > MAX_INCLUDE_DEPTH) {
      this.fail(`includes nest deeper than ${MAX_INCLUDE_DEPTH} levels (does '${name}' include itself?)`, at);
    }
    const base = this.fromFile ? dirname(this.file) : process.cwd();
    const path = resolve(base, name);
    let text: string;
    try {
      text = this.shared.readFile(path);
    } catch (e) {
      this.fail(`cannot read include file '${name}' (${path}): ${errnoText(e)}`, at);
    }
    const included = new Parser(text, path, true, this.shared, this.includeDepth + 1).parseDocument();
    for (const k of Object.keys(included)) {
      setKey(map, k, included[k]!, confLocation(included, k) ?? this.locate(at));
    }
  }
}
