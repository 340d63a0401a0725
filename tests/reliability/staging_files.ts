/**
 * The source of the staging folder's tests (immutable_staging_test, permissions_staging_test):
 * 20 files, enough that a refusal said once, not per file, shows.
 */
import { join } from "node:path";

export const FILES = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [`f${i}`, `${i}\n`]),
);

/** Gives each file new contents, its own. */
export function changeAll(source: string): void {
  for (const f of Object.keys(FILES)) Deno.writeTextFileSync(join(source, f), `${f} new\n`);
}

/**
 * The one line a run stopped by the staging folder's refusal (`refusal`: its words, with
 * what to do next after its remedy) ends with, the lock released.
 */
export function runStoppedOnce(refusal: (then: string) => RegExp): RegExp {
  return new RegExp(
    "^Backup failed: " + refusal(", then run again; what was stored before is kept, the ")
      .source +
      "rest is left for the next run\n$",
  );
}
