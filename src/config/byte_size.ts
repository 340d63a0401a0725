/**
 * `exclude_larger_than`, read from the config: the size over which a regular file is left
 * out (engine/scan/scan_walk.ts), as restic's `--exclude-larger-than`. A number of bytes, or a
 * string `<number><unit>` with units K, M, G and T (KB/KiB, MB/MiB, GB/GiB, TB/TiB too, in
 * any letter case), all 1024-based as restic reads them; a fraction is taken where it
 * makes whole bytes ("1.5G"). Anything else (zero, negative, a fraction of a byte, an
 * unknown unit, not a number) throws `Invalid`, said in one line with what to give
 * instead. Pure.
 */
import { invalid, show, typeName } from "./errors.ts";
import type { Section } from "./section.ts";

const KEY = "exclude_larger_than";

/** What to give, said after each refusal. */
const WHAT =
  "give a number of bytes, or a number with a unit K, M, G or T (1024-based, as restic " +
  'reads them), e.g. "500M" or "1.5G"; null (or no key) for no limit';

/** Powers of 1024 by the unit's first letter; B (or none): bytes. */
const POWERS: Readonly<Record<string, number>> = { "": 0, b: 0, k: 1, m: 2, g: 3, t: 4 };

/** `<number>`, an optional space, `<unit>`: K, KB, KiB (any case), or B. */
const SIZE = /^(\d+(?:\.\d+)?|\.\d+) ?(?:([kmgt])(?:i?b)?|(b))?$/i;

/**
 * A size as written (a number of bytes, or a string as above) in bytes, or a reason it is
 * none (the text after the key and value in a refusal).
 */
export function parseByteSize(value: unknown): number | { problem: string } {
  let bytes: number;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const m = SIZE.exec(value.trim());
    if (m === null) return { problem: "is not a size" };
    const unit = (m[2] ?? m[3] ?? "").toLowerCase();
    bytes = Number(m[1]) * 1024 ** POWERS[unit];
  } else return { problem: `is not a size (got ${typeName(value)})` };
  if (!Number.isFinite(bytes) || bytes <= 0) {
    return { problem: "is not a size of more than 0 bytes" };
  }
  if (!Number.isInteger(bytes)) {
    return { problem: `is ${bytes} bytes, a fraction of a byte (${Math.floor(bytes)} is whole)` };
  }
  if (!Number.isSafeInteger(bytes)) {
    return { problem: `is more bytes than a size here holds (at most ${Number.MAX_SAFE_INTEGER})` };
  }
  return bytes;
}

/** `exclude_larger_than` in bytes; null where absent or null (no limit). */
export function readExcludeLargerThan(top: Section): number | null {
  if (!top.has(KEY)) return null;
  const value = top.required(KEY, WHAT);
  if (value === null) return null;
  const size = parseByteSize(value);
  if (typeof size === "number") return size;
  invalid(`'${KEY}' ${show(value)} ${size.problem}: ${WHAT}`);
}
