/**
 * Typed reads from one JSON object of the config, with key paths for messages. A `Section`
 * knows its prefix (`retention`, `sources[0]`), rejects keys it does not know (with a
 * did-you-mean), and each getter checks the JSON type and range, or returns the default
 * when the key is absent. Every failure throws `Invalid` naming the key path and the value.
 */
import { invalid, quote, show, typeName } from "./errors.ts";
import { keyPath } from "./jsonc.ts";
import { didYouMean } from "./suggest.ts";

type Json = Record<string, unknown>;

/** A range for numbers: `min <= n <= max`. */
interface Range {
  min: number;
  max?: number;
}

export class Section {
  private constructor(private readonly obj: Json, private readonly prefix: string) {}

  /**
   * Wraps `value`, which must be a JSON object, found at `path` ("" for the top level), and
   * rejects keys not in `keys`. `homes` names the section where a misplaced key belongs;
   * `aliases` the key meant by another tool's name for it, written without `-`, `_` or
   * spaces, in lower case (`excludefile`).
   */
  static of(
    value: unknown,
    path: string,
    keys: readonly string[],
    homes: Readonly<Record<string, string>> = {},
    aliases: Readonly<Record<string, string>> = {},
  ): Section {
    if (typeName(value) !== "object") {
      const what = path === "" ? "the top level" : quote(path);
      invalid(`${what} must be an object ({ ... }), got ${typeName(value)}`);
    }
    const section = new Section(value as Json, path);
    section.allowOnly(keys, homes, aliases);
    return section;
  }

  /** The key path of `key` in this section. */
  path(key: string | number): string {
    return keyPath(this.prefix === "" ? [key] : [this.prefix, key]);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key);
  }

  /** The raw value of `key`; throws `missing required key` with `hint` when absent. */
  required(key: string, hint: string): unknown {
    if (!this.has(key)) invalid(`missing required key ${quote(this.path(key))}: ${hint}`);
    return this.obj[key];
  }

  /** A nested object (absent → empty), restricted to `keys`. */
  section(key: string, keys: readonly string[]): Section {
    return Section.of(this.has(key) ? this.obj[key] : {}, this.path(key), keys);
  }

  string(key: string, fallback: string): string {
    return this.has(key) ? this.typed(key, "string", "a string") as string : fallback;
  }

  boolean(key: string, fallback: boolean): boolean {
    return this.has(key) ? this.typed(key, "boolean", "true or false") as boolean : fallback;
  }

  integer(key: string, range: Range, fallback: number): number {
    if (!this.has(key)) return fallback;
    const n = this.typed(key, "number", "an integer") as number;
    if (!Number.isSafeInteger(n) || !inRange(n, range)) this.outOfRange(key, "an integer", range);
    return n;
  }

  number(key: string, range: Range, fallback: number): number {
    if (!this.has(key)) return fallback;
    const n = this.typed(key, "number", "a number") as number;
    if (!Number.isFinite(n) || !inRange(n, range)) this.outOfRange(key, "a number", range);
    return n;
  }

  /** The value of `key`, which must have JSON type `type` (described as `what`). */
  typed(key: string, type: string, what: string): unknown {
    const value = this.obj[key];
    if (typeName(value) !== type) {
      invalid(
        `${quote(this.path(key))} must be ${what}, got ${gotValue(value)}${unquoted(value, type)}`,
      );
    }
    return value;
  }

  private allowOnly(
    keys: readonly string[],
    homes: Readonly<Record<string, string>>,
    aliases: Readonly<Record<string, string>>,
  ): void {
    for (const key of Object.keys(this.obj)) {
      if (keys.includes(key)) continue;
      // Another tool's name for a key (restic's exclude_file), compared as didYouMean does.
      const name = key.toLowerCase().replace(/[-_\s]/g, "");
      const alias = Object.hasOwn(aliases, name) ? aliases[name] : undefined;
      let hint = alias === undefined ? didYouMean(key, keys) : ` (did you mean '${alias}'?)`;
      const home = Object.hasOwn(homes, key) ? homes[key] : undefined;
      if (hint === "" && home !== undefined) {
        hint = ` (it belongs inside '${home}': "${home}": { "${key}": ... })`;
      }
      invalid(`unknown key ${quote(this.path(key))}${hint}`);
    }
  }

  private outOfRange(key: string, what: string, range: Range): never {
    // Without a maximum of its own, the largest integer a number holds exactly is one.
    const bounds = range.max === undefined
      ? `from ${range.min} to ${Number.MAX_SAFE_INTEGER}`
      : `from ${range.min} to ${range.max}`;
    invalid(`${quote(this.path(key))} must be ${what} ${bounds}, got ${show(this.obj[key])}`);
  }
}

/** A value given where another type belongs: its type, and a scalar's value as written. */
function gotValue(value: unknown): string {
  const scalar = ["string", "number", "boolean"].includes(typeof value);
  return scalar ? `${typeName(value)} ${show(value)}` : typeName(value);
}

/** The remedy for a number or true/false written in quotes ("10", "true"), as JSON reads it. */
function unquoted(value: unknown, type: string): string {
  if (typeof value !== "string") return "";
  const text = value.trim();
  if (type === "number" && text !== "" && Number.isFinite(Number(text))) {
    return `: write it without quotes (${Number(text)})`;
  }
  if (type === "boolean" && /^(true|false)$/i.test(text)) {
    return `: write it without quotes (${text.toLowerCase()})`;
  }
  return "";
}

function inRange(n: number, range: Range): boolean {
  return n >= range.min && (range.max === undefined || n <= range.max);
}
