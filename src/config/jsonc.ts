/**
 * JSONC text → plain value: JSON plus `//` and `/* *\/` comments and trailing commas.
 *
 * Hand-written (the npm `jsonc-parser` is CommonJS, and loading Node's CJS layer cost every
 * command ~40 ms at start-up) but it behaves like jsonc-parser 3 with trailing commas and
 * comments allowed, which `jsonc_test.ts` checks differentially. A scanner of sticky regexes
 * keeps one token of lookahead, skipping whitespace and comments; a recursive descent builds
 * the value. Like jsonc-parser it scans a token as soon as the previous one is consumed, so
 * the first error it meets is the first jsonc-parser reports: same error (the MESSAGES keys
 * are jsonc-parser's ParseErrorCode names), same offset (the start of the token at fault),
 * shown as `line L, column C: <message>`. Duplicate keys, which JSON parsers silently resolve
 * by keeping the last one (a common way to lose half of an edited config), are rejected too,
 * but only after the whole text parsed, so a syntax error anywhere still comes first.
 */
import { invalid, quote } from "./errors.ts";

/** The readable text for each jsonc-parser error code. */
export const MESSAGES = {
  InvalidSymbol: "unexpected character or word (strings and keys need double quotes)",
  InvalidNumberFormat: "invalid number", // jsonc-parser's scanner never yields a NaN number
  PropertyNameExpected: "expected a key in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "expected the end of the file after the top-level value",
  InvalidCommentToken: "invalid comment", // only raised when comments are disallowed
  UnexpectedEndOfComment: "unterminated comment (missing '*/')",
  UnexpectedEndOfString: "unterminated string (missing '\"')",
  UnexpectedEndOfNumber: "incomplete number",
  InvalidUnicode: "invalid \\u escape in string",
  InvalidEscapeCharacter: "invalid escape character in string",
  InvalidCharacter: "invalid character in string (use \\n, \\t, ... for control characters)",
} as const;
type Code = keyof typeof MESSAGES;

/** Whitespace (only these four, as in jsonc-parser), line and closed block comments. */
const TRIVIA = /(?:[ \t\r\n]+|\/\/[^\r\n]*|\/\*[^]*?\*\/)*/y;
/** A string up to its closing quote (group 2), or up to a line break or the end if none. */
const STRING = /"((?:[^"\\\r\n]+|\\[^])*)("?)/y;
/** A number; a `.` or an exponent without digits (groups 1 and 2) is an incomplete one. */
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d*)?([eE][+-]?\d*)?/y;
/** A bare word: what jsonc-parser reads as one token, then checks for true, false or null. */
const WORD = /[^ \t\r\n{}[\]":,\/]+/y;
/** In a string body: an escape (`\uXXXX`, a `\u` without 4 hex digits, `\` + any) or a control. */
// deno-lint-ignore no-control-regex
const ESCAPE_OR_CONTROL = /\\(u[0-9a-fA-F]{4}|u|[^])|[\x00-\x1f]/g;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
const PLAIN_PROPERTY = { writable: true, enumerable: true, configurable: true };
const KEYWORDS: Record<string, unknown> = { true: true, false: false, null: null };

/**
 * Objects and arrays nested deeper than this are refused: a config needs four levels, and
 * the recursive descent would otherwise run out of stack (a file of 100,000 `[` did).
 */
const MAX_DEPTH = 64;

type Kind = "{" | "}" | "[" | "]" | ":" | "," | "string" | "scalar" | "eof";
interface Token {
  kind: Kind;
  value?: unknown;
}

/** 1-based line and column (in UTF-16 units) of an offset; `\r\n`, `\n` and `\r` end lines. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i];
    if (c === "\n" || (c === "\r" && text[i + 1] !== "\n")) [line, start] = [line + 1, i + 1];
  }
  return { line, column: offset - start + 1 };
}

function at(text: string, offset: number): string {
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}`;
}

/** Key path for messages: `retention.max_versions_per_file`, `sources[0].name`. */
export function keyPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>(
    (acc, s) => typeof s === "number" ? `${acc}[${s}]` : acc === "" ? s : `${acc}.${s}`,
    "",
  );
}

/** Decodes a string body; a bad part gives the error code of the last one, as jsonc-parser. */
function decode(body: string): { value: string; error?: Code } {
  if (body.search(ESCAPE_OR_CONTROL) < 0) return { value: body }; // the usual case, and quick
  let error: Code | undefined;
  const value = body.replace(ESCAPE_OR_CONTROL, (raw, escape?: string) => {
    if (escape === undefined) error = "InvalidCharacter";
    // "u" and 4 hex digits: one UTF-16 unit (a surrogate pair comes as two escapes)
    else if (escape.length === 5) return String.fromCharCode(parseInt(escape.slice(1), 16));
    else if (Object.hasOwn(ESCAPES, escape)) return ESCAPES[escape];
    else error = escape === "u" ? "InvalidUnicode" : "InvalidEscapeCharacter";
    return raw;
  });
  return { value, error };
}

class Parser {
  pos = 0;
  /** The current token, and where it starts: the offset of any error reported at it. */
  tok: Token = { kind: "eof" };
  start = 0;
  /** Where the value being parsed sits: keys and array indices. */
  path: (string | number)[] = [];
  /** The message for the first duplicate key, thrown once the text parsed without error. */
  duplicate?: string;

  constructor(readonly text: string) {
    this.next();
  }

  fail(code: Code): never {
    invalid(`${at(this.text, this.start)}: ${MESSAGES[code]}`);
  }

  /** Matches a sticky regex at the position and moves past the match. */
  match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m) this.pos = re.lastIndex;
    return m;
  }

  /** Scans the token after any trivia into `tok`; throws if it is bad. */
  next(): void {
    this.match(TRIVIA);
    this.start = this.pos;
    const c = this.text[this.start];
    if (c === undefined) this.tok = { kind: "eof" };
    else if ("{}[]:,".includes(c)) [this.tok, this.pos] = [{ kind: c as Kind }, this.pos + 1];
    else if (c === '"') this.tok = { kind: "string", value: this.string() };
    else if (c === "/") {
      this.fail(this.text[this.start + 1] === "*" ? "UnexpectedEndOfComment" : "InvalidSymbol");
    } else this.tok = { kind: "scalar", value: this.scalar() };
  }

  string(): string {
    const [, body, close] = this.match(STRING)!;
    if (close === "") this.fail("UnexpectedEndOfString");
    const { value, error } = decode(body);
    if (error) this.fail(error);
    return value;
  }

  scalar(): unknown {
    const number = this.match(NUMBER);
    if (number) {
      const [text, fraction, exponent] = number;
      if (fraction === "." || /^[eE][+-]?$/.test(exponent ?? "")) {
        this.fail("UnexpectedEndOfNumber");
      }
      return Number(text);
    }
    const word = this.match(WORD)![0]; // a lone "-" is a word too
    if (!Object.hasOwn(KEYWORDS, word)) this.fail("InvalidSymbol");
    return KEYWORDS[word];
  }

  value(): unknown {
    const { kind, value } = this.tok;
    if ((kind === "{" || kind === "[") && this.path.length >= MAX_DEPTH) {
      invalid(`${at(this.text, this.start)}: nested more than ${MAX_DEPTH} levels deep`);
    }
    if (kind === "{") return this.object();
    if (kind === "[") return this.array();
    if (kind !== "string" && kind !== "scalar") this.fail("ValueExpected");
    this.next();
    return value;
  }

  /** Takes the `,` before an item; false if it was a trailing one, right before `close`. */
  comma(needed: boolean, close: Kind): boolean {
    if (this.tok.kind !== ",") return needed ? this.fail("CommaExpected") : true;
    if (!needed) this.fail("ValueExpected");
    this.next();
    return this.tok.kind !== close;
  }

  close(kind: Kind, code: Code): void {
    if (this.tok.kind !== kind) this.fail(code);
    this.next();
  }

  object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const keys = new Set<string>();
    this.next();
    while (this.tok.kind !== "}" && this.tok.kind !== "eof") {
      if (!this.comma(keys.size > 0, "}")) break;
      this.property(result, keys);
    }
    this.close("}", "CloseBraceExpected");
    return result;
  }

  property(result: Record<string, unknown>, keys: Set<string>): void {
    const { start, tok: { kind, value } } = this;
    if (kind !== "string") this.fail("PropertyNameExpected");
    const key = value as string;
    if (keys.has(key)) {
      const name = quote(keyPath([...this.path, key]));
      this.duplicate ??= `${at(this.text, start)}: duplicate key ${name}: keep only one of them`;
    }
    keys.add(key);
    this.next();
    if (this.tok.kind !== ":") this.fail("ColonExpected");
    this.next();
    this.path.push(key);
    const item = this.value();
    this.path.pop();
    // `result.__proto__ = item` would set the prototype: a plain property, as JSON.parse makes.
    // (Defining every key so would be slower.)
    if (key !== "__proto__") result[key] = item;
    else Object.defineProperty(result, key, { value: item, ...PLAIN_PROPERTY });
  }

  array(): unknown[] {
    const items: unknown[] = [];
    this.next();
    while (this.tok.kind !== "]" && this.tok.kind !== "eof") {
      if (!this.comma(items.length > 0, "]")) break;
      this.path.push(items.length);
      items.push(this.value());
      this.path.pop();
    }
    this.close("]", "CloseBracketExpected");
    return items;
  }
}

/** Parses config text; throws `Invalid` on the first syntax error or a duplicate key. */
export function parseJsonc(text: string): unknown {
  if (text.trim() === "") {
    const what = text === "" ? "is empty" : "holds only white space";
    invalid(`the file ${what}: it must hold an object like { "sources": [...] }`);
  }
  const parser = new Parser(text);
  const value = parser.value();
  if (parser.tok.kind !== "eof") parser.fail("EndOfFileExpected");
  if (parser.duplicate !== undefined) invalid(parser.duplicate);
  return value;
}
