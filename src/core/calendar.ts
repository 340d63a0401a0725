/**
 * The calendar day of a time, as retention's periods cut them (retention.ts): in the zone
 * the process runs in ("local", Date's local getters, as Deno reads `TZ`), or in a named
 * zone (`retention.time_zone`: an IANA name such as "Europe/Berlin", or what else
 * `Intl.DateTimeFormat` takes as a `timeZone`), whatever the process's `TZ`.
 *
 * A named zone's day is the UTC day of the time moved by the zone's offset from UTC then.
 * The offset is asked of one `Intl.DateTimeFormat` per zone (`formatToParts`, some
 * microseconds a call), at the start of each UTC hour a time falls in, kept for the next
 * times of that hour: where the hour's start and the next hour's have one offset, the zone
 * did not change in it (zones change at most once in an hour), and every time in it has
 * that offset; an hour with a change in it (at a daylight saving time change, or at a
 * half hour, as Australia/Lord_Howe's) asks for each time's own. Days of 23 or 25 hours
 * are so cut where the zone's clocks say midnight. The cost grows with the distinct UTC
 * hours asked (two `formatToParts` each): measured (Deno 2.9.6), 100,000 times from hourly
 * runs 20 to 40 ms and spread at random over two years about 100 ms, against 10 ms with the
 * local getters and 300 ms with a `formatToParts` for each time. Pure and in memory:
 * nothing to interrupt.
 */

/** A calendar day: year, month (1 to 12), day (1 to 31), weekday (0 Sunday to 6 Saturday). */
export interface CivilDay {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

/** The calendar day of a time (ms since the epoch) in one zone. */
export type DayOf = (ms: number) => CivilDay;

/** The `retention.time_zone` that names the zone the process runs in. */
export const LOCAL_ZONE = "local";

/** Whether `zone` is "local" or a zone `Intl.DateTimeFormat` knows. */
export function isKnownZone(zone: string): boolean {
  if (zone === LOCAL_ZONE) return true;
  try {
    formatterOf(zone);
    return true;
  } catch {
    return false;
  }
}

/** The calendar day of a time in `zone` ("local", or absent: the process's, by `TZ`). */
export function dayReader(zone: string = LOCAL_ZONE): DayOf {
  if (zone === LOCAL_ZONE) return localDay;
  const offsets = offsetsOf(zone);
  return (ms) => utcDay(new Date(ms + offsets.at(ms)));
}

function localDay(ms: number): CivilDay {
  const d = new Date(ms);
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), weekday: d.getDay() };
}

function utcDay(d: Date): CivilDay {
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
  };
}

const HOUR_MS = 3_600_000;

/** Hours whose offsets a zone keeps before it forgets them all (11 years of hours; some MB). */
const MAX_HOURS = 100_000;

/** A zone's offsets from UTC, asked of its formatter once an hour (see above). */
class ZoneOffsets {
  /** By UTC hour: the offset all through it, or NaN where it changes in it. */
  private readonly hours = new Map<number, number>();
  /** By UTC hour: the offset at its start. */
  private readonly starts = new Map<number, number>();

  constructor(private readonly format: Intl.DateTimeFormat) {}

  /** The zone's offset from UTC at `ms`, in ms (local = UTC + offset). */
  at(ms: number): number {
    const hour = Math.floor(ms / HOUR_MS);
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      if (this.hours.size >= MAX_HOURS) [this.hours, this.starts].forEach((m) => m.clear());
      const start = this.startOf(hour);
      offset = start === this.startOf(hour + 1) ? start : NaN;
      this.hours.set(hour, offset);
    }
    return Number.isNaN(offset) ? offsetAt(this.format, ms) : offset;
  }

  private startOf(hour: number): number {
    let offset = this.starts.get(hour);
    if (offset === undefined) {
      offset = offsetAt(this.format, hour * HOUR_MS);
      this.starts.set(hour, offset);
    }
    return offset;
  }
}

/**
 * The offset from UTC of an IANA `zone` at `ms`, in ms; throws a RangeError for a zone Intl
 * does not know.
 */
export function zoneOffsetAt(zone: string, ms: number): number {
  return offsetAt(formatterOf(zone), ms);
}

/** The offset of `format`'s zone at `ms`: its clock's reading then, less the UTC time. */
function offsetAt(format: Intl.DateTimeFormat, ms: number): number {
  const field: Record<string, number> = {};
  for (const part of format.formatToParts(ms)) field[part.type] = Number(part.value);
  const wall = new Date(0);
  // setUTCFullYear, not Date.UTC: that reads years 0 to 99 as 1900 to 1999.
  wall.setUTCFullYear(field.year, field.month - 1, field.day);
  wall.setUTCHours(field.hour, field.minute, field.second);
  // Offsets have whole seconds (Europe/Amsterdam's +00:19:32 until 1937).
  return wall.getTime() - Math.floor(ms / 1000) * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const zoneOffsets = new Map<string, ZoneOffsets>();

/** One formatter a zone, made once; throws a RangeError for a zone Intl does not know. */
function formatterOf(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, format);
  }
  return format;
}

function offsetsOf(zone: string): ZoneOffsets {
  let offsets = zoneOffsets.get(zone);
  if (!offsets) {
    offsets = new ZoneOffsets(formatterOf(zone));
    zoneOffsets.set(zone, offsets);
  }
  return offsets;
}
