/**
 * Terminal colours for the CLI. A stream gets colours only when it is a terminal and the
 * NO_COLOR variable is absent (any value, even empty, turns colours off: no-color.org) and
 * TERM is not "dumb". Otherwise every style is the identity, so callers never branch.
 * The environment is read only when the env permission is already granted (no prompt).
 */

type Paint = (text: string) => string;

export interface Style {
  enabled: boolean;
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

/** SGR codes: [on, off]. 22 resets bold and dim, 39 resets the foreground colour. */
const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export function createStyle(enabled: boolean): Style {
  const paint = ([on, off]: readonly [number, number]): Paint => (text) =>
    enabled && text !== "" ? `\x1b[${on}m${text}\x1b[${off}m` : text;
  return {
    enabled,
    bold: paint(CODES.bold),
    dim: paint(CODES.dim),
    red: paint(CODES.red),
    green: paint(CODES.green),
    yellow: paint(CODES.yellow),
    cyan: paint(CODES.cyan),
  };
}

/** The style for stdout or stderr, decided from the stream and the environment. */
export function styleFor(stream: "stdout" | "stderr"): Style {
  return createStyle(colorAllowed() && isTerminal(stream));
}

export function isTerminal(stream: "stdout" | "stderr"): boolean {
  try {
    return (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal();
  } catch {
    return false;
  }
}

/** False when NO_COLOR is set (to anything) or TERM is "dumb". */
function colorAllowed(): boolean {
  const noColor = readEnv("NO_COLOR");
  if (noColor === null) return !Deno.noColor;
  return noColor === undefined && readEnv("TERM") !== "dumb";
}

/** The variable's value, undefined when unset, null when the env permission is not granted. */
function readEnv(name: string): string | undefined | null {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return null;
    }
    return Deno.env.get(name);
  } catch {
    return null;
  }
}
