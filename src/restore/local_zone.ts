/**
 * Whether a local `--at` time (no `Z`, no offset) can be read as the user means it. Deno
 * reads local times through its own time zone data (ICU), not the C library's: TZ as a
 * zone name (Europe/Berlin) with all its rules; a POSIX rule or a zone file's path only at
 * a fixed offset, their daylight saving time dropped, or as UTC (`IST-5:30`), so
 * `--at 2026-07-02` could silently be another moment than the user's `date` says. What
 * Deno does is looked at, not guessed from the text: its offsets in January and July
 * against what the TZ means. On Windows Deno reads no TZ at all, only Windows's own zone: a
 * TZ meaning another is said so. Pure but for `localReading` and `envTz`; writes nothing.
 */
import { zoneOffsetAt } from "../core/calendar.ts";

/** How Deno reads local times in this process: its zone, if it named one, and its offsets. */
export interface LocalReading {
  zone?: string;
  /** Minutes east of UTC on 1 January and 1 July of `year`. */
  offsets: [number, number];
  year: number;
}

function localReading(): LocalReading {
  const year = new Date().getFullYear();
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  const east = (month: number) => -new Date(year, month, 1, 12).getTimezoneOffset();
  return { zone, offsets: [east(0), east(6)], year };
}

const UTC_ZONE = /^(UTC|GMT|Etc\/(UTC|GMT|Unknown)|[+-]00:00)$/;
/** `std offset [dst [offset] [,rule]]`: the offset (hours west, POSIX's sign) and the rest. */
const POSIX_RULE = /^(?:<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{1,2}){0,2})(.*)$/;
const UTC_NAME =
  /^:?(UTC|UCT|GMT|Z|Zulu|Universal|Greenwich|Etc\/(UTC|UCT|GMT|Zulu|Universal|Greenwich)|Etc\/GMT[+-]?0)$/i;

/** Why a local time cannot be read here, or undefined (see the module's comment). */
export function localZoneProblem(
  tz = envTz(),
  reading = localReading(),
  realPath: (path: string) => string = Deno.realPathSync,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  if (!tz) return undefined;
  if (os === "windows") return windowsProblem(tz, reading);
  if (reading.zone && !UTC_ZONE.test(reading.zone)) return undefined; // with all its rules
  const read = (east: number) => (east === 0 ? "UTC" : `UTC${formatOffset(east)}`);
  const rule = POSIX_RULE.exec(tz);
  if (rule) {
    if (rule[2] !== "") {
      return `TZ '${tz}' is a POSIX rule with daylight saving time, which Deno does not apply`;
    }
    const east = -posixHours(rule[1]) * 60;
    if (reading.offsets.every((o) => o === east)) return undefined; // EST5, UTC0
    return `TZ '${tz}' is a POSIX rule, which Deno reads as ${read(reading.offsets[0])}`;
  }
  const name = zoneFileName(tz, realPath);
  if (name !== undefined) {
    const meant = [0, 6].map((m) => zoneOffset(name, new Date(Date.UTC(reading.year, m, 1, 12))));
    if (meant.every((o, i) => o === reading.offsets[i])) return undefined;
    if (meant[0] !== undefined) {
      return `TZ '${tz}' is a zone file, which Deno reads without its daylight saving time ` +
        `(set TZ=${name})`;
    }
  }
  if (UTC_NAME.test(tz)) return undefined;
  return `TZ '${tz}' is not a time zone Deno knows, so it reads local times as UTC`;
}

/**
 * On Windows Deno does not read TZ at all (denoland/deno#15370): ICU takes Windows's own
 * zone. A TZ set there (Git Bash, PowerShell) is a problem unless it means that zone's
 * offsets: an IANA name, UTC's, or a POSIX rule (its summer an hour ahead, where it has one).
 */
function windowsProblem(tz: string, reading: LocalReading): string | undefined {
  const at = (m: number) => new Date(Date.UTC(reading.year, m, 1, 12));
  let meant: (number | undefined)[] = [0, 6].map((m) => zoneOffset(tz.replace(/^:/, ""), at(m)));
  const rule = POSIX_RULE.exec(tz);
  if (UTC_NAME.test(tz)) meant = [0, 0];
  else if (meant[0] === undefined && rule) {
    const std = -posixHours(rule[1]) * 60;
    // With daylight saving time (CET-1CEST, as Git Bash passes it on): an hour ahead in
    // January or July, whichever is summer where the zone lies.
    const summer = rule[2] === "" ? std : std + 60;
    const [jan, jul] = reading.offsets;
    meant = jan === summer && jul === std ? [summer, std] : [std, summer];
  }
  if (meant.every((o, i) => o === reading.offsets[i])) return undefined;
  return `TZ '${tz}' is not read by Deno on Windows, which reads local times in Windows's ` +
    `time zone (${reading.zone ?? `UTC${formatOffset(reading.offsets[0])}`})`;
}

function envTz(): string | undefined {
  try {
    return Deno.env.get("TZ");
  } catch {
    return undefined; // not permitted to read it: Deno's own reading of the zone stands
  }
}

/** POSIX's `5`, `-5:30`, `+3`: hours west of UTC. */
function posixHours(text: string): number {
  const [h, m = "0", s = "0"] = text.replace(/^[+-]/, "").split(":");
  const hours = Number(h) + Number(m) / 60 + Number(s) / 3600;
  return text.startsWith("-") ? -hours : hours;
}

/** `+05:30` for 330 minutes east. */
function formatOffset(east: number): string {
  const a = Math.abs(east);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${east < 0 ? "-" : "+"}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

/** The zone a TZ naming a zone file stands for (`/usr/share/zoneinfo/Europe/Berlin`). */
function zoneFileName(tz: string, realPath: (path: string) => string): string | undefined {
  const path = tz.replace(/^:/, "");
  if (!path.startsWith("/")) return undefined;
  let real = path;
  try {
    real = realPath(path); // /etc/localtime → …/zoneinfo/Etc/UTC
  } catch { /* not there: named as given */ }
  return /\/zoneinfo\/(.+)$/.exec(real)?.[1];
}

/** Minutes east of UTC of an IANA zone at a moment, or undefined for a zone ICU lacks. */
function zoneOffset(zone: string, at: Date): number | undefined {
  try {
    return Math.round(zoneOffsetAt(zone, at.getTime()) / 60_000);
  } catch {
    return undefined; // RangeError: no such zone
  }
}
