/**
 * A config edited while a watch runs, read again with the loader `run` uses, from the bytes
 * the look that saw it settled read (config_change.ts `handedBytes`: a save begun since is not
 * what is applied; an edit naming a file not looked at yet waits until it is seen settled
 * too), and judged:
 * refused where it does not load (the loader's own words: the file, the line, what to do),
 * where a source it adds cannot be read or clashes with another or the backup root (as a
 * run's start refuses it), or where it changes a key the running session cannot change
 * (`backup_root`, whose lock and state it holds open, and `log_dir`, where its log is being
 * written): the session then goes on with the config it has, and judges the edit again at
 * each look while the files stay so (a source's folder made or mounted, a file of
 * `exclude_from` created, mends it with no edit), said again only for another reason; a
 * refused config is parsed at each look meanwhile (every 6 s), a few hundred bytes. Otherwise what changed is
 * said (`describeChanges`), and the session applies it before its next pass (watch.ts
 * `#applyConfig`). Reads only: nothing is written here, so an interruption leaves nothing.
 */
import { type Config, configWarnings, loadConfig } from "../config/config.ts";
import type { FileBytes } from "../config/config_text.ts";
import { errorText } from "../engine/errors.ts";
import { checkSourcesReadable } from "../engine/session/preflight.ts";
import type { ConfigFiles } from "./config_change.ts";

export type Reload =
  /** The edit changes nothing a session uses (a comment, the keys' order). */
  | { kind: "same"; config: Config }
  /** Not applied; said in a warning. */
  | { kind: "refused"; message: string }
  /** To apply: `changes` says what changed; `warnings`: the config's new warnings. */
  | { kind: "apply"; config: Config; changes: string; warnings: string[] };

/** A config reloaded and accepted, to be applied before the next pass. */
export type Accepted = Extract<Reload, { kind: "apply" }>;

/**
 * A session's config edits, as they come (config_change.ts): each read again and judged
 * against the config in use (an edit accepted and not yet applied, `take`, is replaced by
 * the next, or dropped where that is the config in use again). A refusal is
 * said once an edit; an edit undone after one, as such.
 */
export class ConfigReloads {
  readonly #files: ConfigFiles;
  readonly #current: () => Config;
  readonly #say: { warn(message: string): void; note(message: string): void };
  readonly #accepted: () => void;
  #pending: Accepted | undefined;
  /**
   * The last edit was refused, said in this warning: judged again at each look while the
   * files stay so, since what refused it may be mended without an edit of the config (the
   * folder of a source it adds made or mounted, a file of exclude_from created).
   */
  #refused: string | undefined;

  /**
   * `current`: the config in use; `accepted`: an edit was accepted, to apply before the
   * next pass (the session asks for one).
   */
  constructor(
    files: ConfigFiles,
    current: () => Config,
    say: { warn(message: string): void; note(message: string): void },
    accepted: () => void,
  ) {
    this.#files = files;
    this.#current = current;
    this.#say = say;
    this.#accepted = accepted;
  }

  /** Follows the edits from now on (`everyMs`: CONFIG_CHECK_MS, see ConfigFiles.start). */
  start(everyMs?: number): void {
    this.#files.start(() => this.lookNow(), everyMs);
  }

  /** One look at the files now (the timer's; tests call it). */
  lookNow(): void {
    if (this.#files.look()) this.#edited(false);
    else if (this.#refused !== undefined && this.#files.asHanded) this.#edited(true);
  }

  /** The config accepted and not yet applied, taken: the caller applies it, or `putBack`. */
  take(): Accepted | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  /** An accepted config not applied after all (its sources could not be recorded). */
  putBack(accepted: Accepted): void {
    this.#pending ??= accepted;
  }

  close(): void {
    this.#files.close();
  }

  /** `again`: the refused edit judged again (no new edit): said only for another reason. */
  #edited(again: boolean): void {
    const { file } = this.#files;
    if (this.#files.asInUse) {
      if (this.#refused !== undefined) {
        this.#say.note(`The config '${file}' is again the one this watch uses: nothing to apply`);
      }
      this.#refused = undefined;
      return;
    }
    // Against the config in use, not one accepted and not applied yet: what the NOTE says
    // changed is what applying it changes.
    const base = this.#current();
    const { read, unseen } = this.#files.handedBytes();
    const reload = reloadConfig(base, read);
    if (this.#files.unsettled(unseen, reload.kind !== "refused")) return;
    if (reload.kind === "refused") {
      if (!again || reload.message !== this.#refused) this.#say.warn(reload.message);
      this.#refused = reload.message;
      return;
    }
    this.#refused = undefined;
    const config = reload.kind === "same" ? base : reload.config;
    this.#files.inUse(config.excludeFrom);
    if (reload.kind === "same" && this.#pending !== undefined) {
      this.#pending = undefined; // the edit accepted undone before it was applied
      this.#say.note(`The config '${file}' is again the one this watch uses: nothing to apply`);
      return;
    }
    if (reload.kind === "same") {
      this.#say.note(
        `Config '${file}' read again: nothing this watch uses changed (comments, spacing)`,
      );
      return;
    }
    this.#pending = reload;
    this.#accepted();
  }
}

/**
 * Reads `current.file` again (`read`: the files' bytes as a look read them; else the disk) and
 * judges it against `current`, the config in use.
 */
export function reloadConfig(current: Config, read?: FileBytes): Reload {
  const { file } = current;
  const goesOn = "the watch goes on with the config it has";
  let next: Config;
  try {
    next = loadConfig(file, { read });
  } catch (e) {
    return refusedFor(e, goesOn);
  }
  const fixed = fixedChanges(current, next);
  if (fixed.length > 0) {
    return {
      kind: "refused",
      message: `The config '${file}' changed ${fixed.join(" and ")}, which a running watch ` +
        `cannot change: ${goesOn}, and with the rest of the edit too; stop it and start it ` +
        "again to apply it",
    };
  }
  try {
    const known = new Map(current.sources.map((s) => [s.name, s.path]));
    checkSourcesReadable(next, (s) => known.get(s.name) !== s.path);
  } catch (e) {
    return refusedFor(e, goesOn);
  }
  const changes = describeChanges(current, next);
  if (changes.length === 0) return { kind: "same", config: next };
  const before = new Set(configWarnings(current));
  const warnings = configWarnings(next).filter((w) => !before.has(w));
  return { kind: "apply", config: next, changes: changes.join("; "), warnings };
}

/** An edit refused by the loader or a source's check: its own words, and what follows. */
function refusedFor(e: unknown, goesOn: string): Reload {
  return {
    kind: "refused",
    message: `${errorText(e)} (the config was edited while this watch runs: ${goesOn}, ` +
      "and applies it once it loads: at its next change, or once a folder or file it names " +
      "is there)",
  };
}

/** The keys the session holds open, changed: each with its value before and after. */
function fixedChanges(current: Config, next: Config): string[] {
  const held: [string, string, string, string][] = [
    ["backup_root", current.backupRoot, next.backupRoot, "its lock and state are held open"],
    ["log_dir", current.logDir, next.logDir, "its log is being written there"],
  ];
  return held.filter(([, was, now]) => was !== now)
    .map(([key, was, now, why]) => `'${key}' (from '${was}' to '${now}': ${why})`);
}

/** The settings a pass or the session reads, by key, but sources and exclude patterns. */
const KEYS: [string, (c: Config) => unknown][] = [
  ["exclude_caches", (c) => c.excludeCaches],
  ["exclude_if_present", (c) => c.excludeIfPresent],
  ["one_file_system", (c) => c.oneFileSystem],
  ["exclude_larger_than", (c) => c.excludeLargerThan],
  ["hash_algorithm", (c) => c.hashAlgorithm],
  ["retention.max_versions_per_file", (c) => c.maxVersionsPerFile],
  ["retention.keep_daily", (c) => c.keptPeriods.days],
  ["retention.keep_weekly", (c) => c.keptPeriods.weeks],
  ["retention.keep_monthly", (c) => c.keptPeriods.months],
  ["retention.time_zone", (c) => c.keptPeriods.timeZone],
  ["retention.keep_deleted_days", (c) => c.keepDeletedDays],
  ["watch.debounce_ms", (c) => c.watch.debounceMs],
  ["watch.rescan_interval", (c) => c.watch.rescanIntervalMs / 1000],
  ["safety.max_delete_percent", (c) => c.maxDeletePercent],
  ["log_retention", (c) => c.logRetention],
  ["log_unchanged", (c) => c.logUnchanged],
  ["rehash", (c) => c.rehash],
  ["share_blocks", (c) => c.shareBlocks],
];

/** What changed from `a` to `b`, one item a key; none where nothing a session uses did. */
export function describeChanges(a: Config, b: Config): string[] {
  const items: string[] = [];
  const paths = (c: Config) => new Map(c.sources.map((s) => [s.name, s.path]));
  const [was, now] = [paths(a), paths(b)];
  const added = [...now].filter(([name]) => !was.has(name));
  const removed = [...was.keys()].filter((name) => !now.has(name));
  const moved = [...now].filter(([name, path]) => was.has(name) && was.get(name) !== path);
  if (added.length > 0) {
    items.push(`sources: ${added.map(([n, p]) => `'${n}' ('${p}')`).join(", ")} added`);
  }
  if (removed.length > 0) {
    items.push(`sources: ${removed.map((n) => `'${n}'`).join(", ")} removed`);
  }
  for (const [name, path] of moved) items.push(`source '${name}' now at '${path}'`);
  const patterns = listChange(a.exclude, b.exclude, "pattern");
  if (patterns) items.push(`exclude patterns: ${patterns}`);
  else if (a.exclude.join("\n") !== b.exclude.join("\n")) {
    items.push("exclude patterns: the same, in another order"); // a '!' pattern's order counts
  }
  const files = listChange(a.excludeFrom, b.excludeFrom, "file");
  if (files) items.push(`exclude_from: ${files}`);
  for (const [key, value] of KEYS) {
    const [before, after] = [JSON.stringify(value(a)), JSON.stringify(value(b))];
    if (before !== after) items.push(`${key} ${after} (was ${before})`);
  }
  // A key KEYS does not name yet (one added to Config since) is applied all the same.
  if (items.length === 0 && settingsOf(a) !== settingsOf(b)) items.push("other settings");
  return items;
}

/** Every setting of `c` as one text, but where it was read from (its file, patterns' lines). */
function settingsOf(c: Config): string {
  const { file: _file, excludeOrigins: _origins, ...settings } = c;
  return JSON.stringify(settings);
}

/** What was added to and removed from a list, each named (a few at most), or "". */
function listChange(a: readonly string[], b: readonly string[], what: string): string {
  const counted = (list: readonly string[]) => {
    const counts = new Map<string, number>();
    for (const item of list) counts.set(item, (counts.get(item) ?? 0) + 1);
    return counts;
  };
  const [was, now] = [counted(a), counted(b)];
  const more = (x: Map<string, number>, y: Map<string, number>) =>
    [...x].flatMap(([item, n]) => Array(Math.max(0, n - (y.get(item) ?? 0))).fill(item));
  const said = [[more(now, was), "added"], [more(was, now), "removed"]] as const;
  return said.filter(([items]) => items.length > 0).map(([items, how]) => {
    const named = items.slice(0, 3).map((i) => `'${i}'`).join(", ");
    const others = items.length > 3 ? ` and ${items.length - 3} more` : "";
    const count = items.length === 1 ? `1 ${what}` : `${items.length} ${what}s`;
    return `${count} ${how} (${named}${others})`;
  }).join(", ");
}
