/**
 * A message as one line of a log or terminal (`oneLine`): control characters, the marks
 * that reorder text and (but on Windows) the backslash written as escapes, so a file name
 * can neither break a log line nor send a sequence to the terminal; `readOneLine` reads a
 * name so written back. Pure.
 */
// C0 and C1 controls but tab, the Unicode marks that reorder what a terminal shows (a name
// `bidi\u202etxt.exe` would read as `bidiexe.txt`: all of Unicode's Bidi_Control, the
// Arabic letter mark U+061C too), and the line and paragraph separators U+2028 and U+2029,
// which end a line for JavaScript's `^` and `$`, Python's `splitlines` and editors.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
// The same, and the backslash, which starts an escape: a file named `a\nb` (a backslash and
// an n, which Linux and macOS allow) is written `a\\nb`, told apart from one holding a
// newline. Windows names hold no backslash (its paths' separator) nor control character.
// deno-lint-ignore no-control-regex
const ESCAPED = /[\\\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const CONTROL_ALL = new RegExp(CONTROL.source, "g");
const ESCAPED_ALL = new RegExp(ESCAPED.source, "g");

/**
 * A message as one line a terminal shows as it is, which reads back to one text only: a
 * newline or carriage return in a name is written `\n`, `\r`, any other control character
 * (an escape sequence in a file name would otherwise set the title, clear the screen or
 * recolour a cron mail), and a mark that reorders text, `\u001b`, `\u202e`; a backslash
 * `\\` (but on Windows, where it only separates folders).
 */
export function oneLine(message: string, os: typeof Deno.build.os = Deno.build.os): string {
  const [any, all] = os === "windows" ? [CONTROL, CONTROL_ALL] : [ESCAPED, ESCAPED_ALL];
  return any.test(message) ? message.replace(all, escapeChar) : message;
}

/**
 * A name as `oneLine` wrote it (on Linux or macOS), read back: a path copied from a log
 * line. Only its escapes are read; any other backslash stays as it is.
 */
export function readOneLine(text: string): string {
  return text.replace(
    /\\(\\|n|r|u[0-9a-f]{4})/g,
    (_, e: string) =>
      e === "\\"
        ? "\\"
        : e === "n"
        ? "\n"
        : e === "r"
        ? "\r"
        : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

/**
 * A name as `oneLine` writes it, but each escape as `\uXXXX`, a backslash's too (`\u005c`):
 * a spelling `readOneLine` reads back to the name, to tell it apart from a name of the very
 * characters of its log spelling (`a\nb`: a name with a newline, or one with a backslash).
 */
export function spelledOut(text: string): string {
  return text.replace(ESCAPED_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function escapeChar(c: string): string {
  if (c === "\\") return "\\\\";
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
