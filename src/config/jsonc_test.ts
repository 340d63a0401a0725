/**
 * parseJsonc against jsonc-parser, the npm package it replaced (tests may still load it).
 * The reference outcome is what the module computed with jsonc-parser before: the first
 * error `parseTree` reports (code name → MESSAGES, offset → line and column), else the first
 * duplicate key found by `visit`, else the value. The value is rebuilt from the tree with
 * Object.fromEntries (own properties, as JSON.parse makes), so the reference does not hang on
 * what the runtime does with jsonc-parser's `obj["__proto__"] = value` (Deno 2 makes an own
 * property, Node would set the prototype; parseJsonc defines the property). Texts come
 * from a JSONC grammar with random comments, whitespace and trailing commas, from mutations
 * of those, and from token soup; a fixed seed keeps the run fast and deterministic.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Node, type ParseError, parseTree, printParseErrorCode, visit } from "jsonc-parser";
import { Invalid, quote } from "./errors.ts";
import { keyPath, lineColumn, MESSAGES, parseJsonc } from "./jsonc.ts";

const SEED = 20261201;
const OPTIONS = { allowTrailingComma: true, disallowComments: false };
const SYMBOL = "unexpected character or word (strings and keys need double quotes)";
const EMPTY = 'the file is empty: it must hold an object like { "sources": [...] }';
const BLANK = 'the file holds only white space: it must hold an object like { "sources": [...] }';

type Outcome = { value: unknown } | { error: string };

function at(text: string, offset: number): string {
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}`;
}

/** The value of a jsonc-parser tree, keys as own properties (like JSON.parse). */
function treeValue(node: Node): unknown {
  if (node.type === "array") return node.children!.map(treeValue);
  if (node.type !== "object") return node.value;
  return Object.fromEntries(
    node.children!.map((p) => [p.children![0].value, treeValue(p.children![1])]),
  );
}

/** The first duplicate key's message, found as the old module did: a `visit` pass. */
function firstDuplicate(text: string): string | undefined {
  const seen: Set<string>[] = [];
  let found: string | undefined;
  visit(text, {
    onObjectBegin: () => void seen.push(new Set()),
    onObjectEnd: () => void seen.pop(),
    onObjectProperty: (name, offset, _length, _line, _column, pathSupplier) => {
      const keys = seen[seen.length - 1];
      if (keys.has(name) && found === undefined) {
        const path = quote(keyPath([...pathSupplier(), name]));
        found = `${at(text, offset)}: duplicate key ${path}: keep only one of them`;
      }
      keys.add(name);
    },
  }, OPTIONS);
  return found;
}

/** The reference outcome, and which error it is (a ParseErrorCode name, "duplicate", ...). */
function reference(text: string): { outcome: Outcome; kind: string } {
  if (text.trim() === "") return { outcome: { error: text === "" ? EMPTY : BLANK }, kind: "empty" };
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, OPTIONS);
  if (errors.length > 0) {
    const kind = printParseErrorCode(errors[0].error) as keyof typeof MESSAGES;
    return { outcome: { error: `${at(text, errors[0].offset)}: ${MESSAGES[kind]}` }, kind };
  }
  const duplicate = firstDuplicate(text);
  if (duplicate !== undefined) return { outcome: { error: duplicate }, kind: "duplicate" };
  return { outcome: { value: treeValue(tree!) }, kind: "accepted" };
}

function actual(text: string): Outcome {
  try {
    return { value: parseJsonc(text) };
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    return { error: e.message };
  }
}

// ---- generators ----

const join = (parts: string[]) => parts.join("");
/** Whitespace and comments, as found between tokens. */
const trivia = fc.array(
  fc.constantFrom(" ", "\t", "\n", "\r\n", "\r", "// note\n", "//\r", "/* c */", "/**/", "/*\n*/"),
  { maxLength: 2 },
).map(join);
const spaced = (token: fc.Arbitrary<string>) => fc.tuple(token, trivia).map(join);
const scalar = spaced(fc.oneof(
  fc.constantFrom("true", "false", "null", "0", "-0", "12", "-3.25", "1e3", "2E-2", "6.02e+23"),
  fc.constantFrom("1e999", '""', '"\\u00e9\\ud83d\\ude00 \\/\\b\\f\\n\\r\\t\\"\\\\"', '"\\uDEAD"'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.string({ unit: "binary", maxLength: 6 }).map((s) => JSON.stringify(s)),
));
/** A small pool, so that duplicates (also spelled with escapes) are common. */
const key = spaced(
  fc.constantFrom('"a"', '"\\u0061"', '"b"', '"__proto__"', '"toString"', '"x y"', '""'),
);

/** `open items,... close`, with an optional trailing comma. */
function list(open: string, item: fc.Arbitrary<string>, close: string): fc.Arbitrary<string> {
  return fc.tuple(spaced(fc.constant(open)), fc.array(item, { maxLength: 4 }), fc.boolean(), trivia)
    .map(([o, items, trailing, w]) =>
      `${o}${items.join(",")}${trailing && items[0] ? "," : ""}${w}${close}`
    );
}

const { value } = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 4 }, scalar, tie("object"), tie("array")),
  object: spaced(
    list("{", fc.tuple(trivia, key, spaced(fc.constant(":")), tie("value")).map(join), "}"),
  ),
  array: spaced(list("[", fc.tuple(trivia, tie("value")).map(join), "]")),
}));
const valid = fc.tuple(trivia, value).map(join);

/** Characters that trip the scanner or the grammar when put anywhere. */
const NASTY = [..."{}[]:,\"/*\\-0.1e+utx \n\r\t\x01\f'", "\uFEFF", "\u00a0", "\ud800"];
const edit = fc.tuple(
  fc.nat(),
  fc.constantFrom("insert", "delete", "replace", "cut"),
  fc.constantFrom(...NASTY),
);
/** Applies `[n, op, c]` edits: insert, delete or replace a character at n, or cut the rest. */
function applyEdits(text: string, edits: [number, string, string][]): string {
  return edits.reduce((t, [n, op, c]) => {
    const i = n % (t.length + 1);
    const rest = op === "insert" ? t.slice(i) : op === "cut" ? "" : t.slice(i + 1);
    return t.slice(0, i) + (op === "insert" || op === "replace" ? c : "") + rest;
  }, text);
}
const mutated = fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 }))
  .map(([text, edits]) => applyEdits(text, edits));

const SOUP = [
  ..."{}[]:,",
  ...['"a"', '"b"', '"\\q"', '"\\u12"', '"\\u12G4"', '"x\ty"', '"\x00"', '"open', '"\\', '"a\\'],
  ...['"\\q\x01"', '"\x01\\q"', '"\\q\\u1"', '"\\u1\\q"', '"\\q', '"\\\n"', '"\\u00e9"'],
  ...["1", "-", "-1", "01", "1.", "1.5", "1e", "1e+", "1.e3", "-0.5e+3", ".5", "+1", "NaN"],
  ...["true", "True", "nul", "null", "truefalse", "1true", "-x"],
  ...["//c\n", "//c", "/*c*/", "/*", "/*/", "/", "*", " ", "\n", "\r\n", "'x'", "\uFEFF", "\f"],
];
const soup = fc.array(fc.constantFrom(...SOUP), { maxLength: 10 }).map(join);

// ---- tests ----

Deno.test("parseJsonc agrees with jsonc-parser (value, or first error and position)", () => {
  const kinds = new Map<string, number>();
  fc.assert(
    fc.property(fc.oneof(valid, mutated, soup), (text) => {
      const { outcome, kind } = reference(text);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      assert.deepEqual(actual(text), outcome, JSON.stringify(text));
    }),
    { seed: SEED, numRuns: 2000 },
  );
  // Every outcome jsonc-parser can produce here was hit (not InvalidNumberFormat: its scanner
  // never yields a NaN number; not InvalidCommentToken: comments are allowed).
  const missing = Object.keys(MESSAGES).concat("empty", "duplicate", "accepted")
    .filter((k) => !kinds.has(k) && k !== "InvalidNumberFormat" && k !== "InvalidCommentToken");
  assert.deepEqual(missing, [], JSON.stringify(Object.fromEntries(kinds)));
});

Deno.test("parseJsonc: values", () => {
  const text =
    '// c\n{ "a": [1, -0.5e1, true, null,], /* c */ "b": { "c": "\\u00e9\\ud83d\\ude00\\n", }, }';
  assert.deepEqual(parseJsonc(text), { a: [1, -5, true, null], b: { c: "é😀\n" } });
  assert.deepEqual(parseJsonc(" [ ] "), []);
  assert.equal(parseJsonc('"x"'), "x");
});

Deno.test("parseJsonc: a __proto__ key is an own property, as with JSON.parse", () => {
  const value = parseJsonc('{ "__proto__": { "polluted": 1 }, }') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(value.polluted, undefined);
  assert.deepEqual(Object.keys(value), ["__proto__"]);
  assert.deepEqual(value, JSON.parse('{ "__proto__": { "polluted": 1 } }'));
});

Deno.test("parseJsonc: errors, exactly as jsonc-parser reports the first one", () => {
  const cases: [string, string][] = [
    ["", EMPTY],
    [" \n\t", BLANK],
    ["// only a comment", "line 1, column 18: expected a value"],
    ["{} {}", "line 1, column 4: expected the end of the file after the top-level value"],
    ['{\n  "a": 1\n  "b": 2\n}', "line 3, column 3: expected ','"],
    ["[01]", "line 1, column 3: expected ','"], // a leading 0 ends the number
    ["[-]", `line 1, column 2: ${SYMBOL}`],
    ["{ a: 1 }", `line 1, column 3: ${SYMBOL}`],
    ['{ "a": True }', `line 1, column 8: ${SYMBOL}`],
    ["\uFEFF{}", `line 1, column 1: ${SYMBOL}`], // only space, tab, CR and LF are whitespace
    ["[1.]", "line 1, column 2: incomplete number"],
    ["[1e+]", "line 1, column 2: incomplete number"],
    ['{ "a" 1 }', "line 1, column 7: expected ':'"],
    ['{ "a": }', "line 1, column 8: expected a value"],
    ["{ , }", "line 1, column 3: expected a value"],
    ['{ "a": 1,, }', "line 1, column 10: expected a key in double quotes"],
    ["[1,,]", "line 1, column 4: expected a value"],
    ['{ "a": 1 ]', "line 1, column 10: expected ','"],
    ["[1", "line 1, column 3: expected ']'"],
    ['{ "a": [] /* x', "line 1, column 11: unterminated comment (missing '*/')"],
    ['{ "a": "x\n" }', "line 1, column 8: unterminated string (missing '\"')"],
    ['{ "a": "\\q" }', "line 1, column 8: invalid escape character in string"],
    ['{ "a": "\\u12" }', "line 1, column 8: invalid \\u escape in string"],
    [
      '{ "a": "x\ty" }',
      "line 1, column 8: invalid character in string (use \\n, \\t, ... for control characters)",
    ],
    // Within one string the last problem wins, as in jsonc-parser's scanner.
    ['{ "a": "\x01\\q" }', "line 1, column 8: invalid escape character in string"],
    [
      '{ "a": "\\q\x01" }',
      "line 1, column 8: invalid character in string (use \\n, \\t, ... for control characters)",
    ],
    [
      '{ "a": [{ "c": 1, "\\u0063": 2 }] }',
      "line 1, column 19: duplicate key 'a[0].c': keep only one of them",
    ],
    // A syntax error anywhere comes before a duplicate key.
    ['{ "a": 1, "a": 2 } x', `line 1, column 20: ${SYMBOL}`],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseJsonc(text), { name: "Invalid", message }, JSON.stringify(text));
    assert.deepEqual(reference(text).outcome, { error: message }, JSON.stringify(text));
  }
});

Deno.test("parseJsonc: nesting deeper than 64 levels is a config error, not a crash", () => {
  assert.deepEqual(parseJsonc(`${"[".repeat(64)}${"]".repeat(64)}`), nest(64));
  assert.throws(() => parseJsonc("[".repeat(100_000)), /line 1, column 65: nested more than 64/);
  assert.throws(() => parseJsonc(`{"a":`.repeat(70)), /nested more than 64 levels deep/);
});

function nest(depth: number): unknown {
  return depth === 1 ? [] : [nest(depth - 1)];
}
