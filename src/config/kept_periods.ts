/**
 * The keys of retention by period: `keep_daily`, `keep_weekly` and `keep_monthly`, each a
 * count (0: none), and `time_zone`, the zone their days, weeks and months are cut in
 * (core/calendar.ts): "local" (the process's), or a zone `Intl.DateTimeFormat` knows (an
 * IANA name in any letter case, "UTC", an offset such as "+05:30"), kept as written. A zone
 * it does not know is refused when the config is loaded, not at the first pass that would
 * cut days by it. Reads only.
 */
import { invalid, quote } from "./errors.ts";
import type { Section } from "./section.ts";
import { didYouMean } from "./suggest.ts";
import { isKnownZone, LOCAL_ZONE } from "../core/calendar.ts";
import type { KeptPeriods as RulePeriods } from "../core/retention.ts";

/** The keys of the periods that keep their newest version of each file, by period. */
const KEPT_PERIODS = [
  ["keep_daily", "days"],
  ["keep_weekly", "weeks"],
  ["keep_monthly", "months"],
] as const;

/** Every key read here, as the `retention` section takes them. */
export const KEPT_PERIOD_KEYS = [...KEPT_PERIODS.map(([key]) => key), "time_zone"];

type Key = typeof KEPT_PERIODS[number][0];

/** The defaults of the keys read here, as config.ts's DEFAULTS has them. */
type Defaults = { readonly [K in `retention.${Key}`]: number } & {
  readonly "retention.time_zone": string;
};

/** The periods as the rule takes them, the zone always given. */
export type KeptPeriods = Required<RulePeriods>;

export function readKeptPeriods(retention: Section, defaults: Defaults): KeptPeriods {
  const timeZone = readTimeZone(retention, defaults["retention.time_zone"]);
  const kept = { days: 0, weeks: 0, months: 0, timeZone };
  for (const [key, period] of KEPT_PERIODS) {
    kept[period] = retention.integer(key, { min: 0 }, defaults[`retention.${key}`]);
  }
  return kept;
}

function readTimeZone(retention: Section, fallback: string): string {
  const zone = retention.string("time_zone", fallback);
  if (isKnownZone(zone)) return zone;
  const names = [LOCAL_ZONE, ...Intl.supportedValuesOf("timeZone"), "UTC"];
  invalid(
    `unknown 'retention.time_zone' ${quote(zone)}${didYouMean(zone, names)}: write "local"` +
      ` (the zone each command runs in) or an IANA zone name such as "Europe/Berlin", "UTC"` +
      ` or "America/New_York"`,
  );
}
