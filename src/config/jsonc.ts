/**
 * JSONC text → plain value. jsonc-parser accepts comments and trailing commas; its first
 * error is reported as `line L, column C: <message>` (1-based, computed from the offset).
 * A second pass with `visit` rejects duplicate keys, which JSON parsers silently resolve by
 * keeping the last one — a common way to lose half of an edited config.
 */
import { parse, type ParseError, printParseErrorCode, visit } from "jsonc-parser";
import { invalid, quote } from "./errors.ts";

const OPTIONS = { allowTrailingComma: true, disallowComments: false };

const MESSAGES: Record<string, string> = {
  InvalidSymbol: "unexpected character or word (strings and keys need double quotes)",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a key in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "expected the end of the file after the top-level value",
  InvalidCommentToken: "invalid comment",
  UnexpectedEndOfComment: "unterminated comment (missing '*/')",
  UnexpectedEndOfString: "unterminated string (missing '\"')",
  UnexpectedEndOfNumber: "incomplete number",
  InvalidUnicode: "invalid \\u escape in string",
  InvalidEscapeCharacter: "invalid escape character in string",
  InvalidCharacter: "invalid character in string (use \\n, \\t, ... for control characters)",
};

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

/** The readable text for a jsonc-parser error code. */
export function errorText(error: ParseError): string {
  const name = printParseErrorCode(error.error);
  return MESSAGES[name] ?? name;
}

/** Key path for messages: `retention.max_versions_per_file`, `sources[0].name`. */
export function keyPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>(
    (acc, s) => typeof s === "number" ? `${acc}[${s}]` : acc === "" ? s : `${acc}.${s}`,
    "",
  );
}

function rejectDuplicateKeys(text: string): void {
  const seen: Set<string>[] = [];
  visit(text, {
    onObjectBegin: () => void seen.push(new Set()),
    onObjectEnd: () => void seen.pop(),
    onObjectProperty: (name, offset, _length, _line, _column, pathSupplier) => {
      const keys = seen[seen.length - 1];
      if (keys.has(name)) {
        const path = quote(keyPath([...pathSupplier(), name]));
        invalid(`${at(text, offset)}: duplicate key ${path}: keep only one of them`);
      }
      keys.add(name);
    },
  }, OPTIONS);
}

/** Parses config text; throws `Invalid` on the first syntax error or a duplicate key. */
export function parseJsonc(text: string): unknown {
  if (text.trim() === "") {
    invalid('the file is empty: it must hold an object like { "sources": [...] }');
  }
  const errors: ParseError[] = [];
  const value = parse(text, errors, OPTIONS);
  if (errors.length > 0) invalid(`${at(text, errors[0].offset)}: ${errorText(errors[0])}`);
  rejectDuplicateKeys(text);
  return value;
}
