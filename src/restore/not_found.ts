/**
 * What a restore (and `ls`, `diff`, `stats`, `purge`, `history`) says of a PATH that matched
 * nothing, and why: as of the moment asked, too early (its first backup's time to give),
 * deleted (when, and the moment or version that gives its last content), purged (backup-tool
 * purge: when, and whether it was backed up again since), its copies gone since, a version
 * it never had (the range it has); or never recorded so: the path under a source the config
 * no longer names, another spelling (letter case, Unicode form), single quotes that are
 * part of it, or bytes that are not UTF-8. Asked only for a PATH that matched nothing, so a folder's rows may be read
 * once more. Reads only.
 */
import { isStored, type Selector } from "./asof.ts";
import type { StateStore, StoredCopy } from "../state/store.ts";
import { givenNotUtf8, notUtf8Given } from "../config/errors.ts";
import { commandHint } from "../config/selection.ts";

/** Why a PATH matched nothing; `recorded`: whether anything was ever recorded there. */
export function notFound(
  store: StateStore,
  target: string,
  sel: Selector,
  at: number | undefined,
  recorded: boolean,
  other?: string,
  lists = false,
): string {
  // Recorded under a source the config no longer names (a source folder renamed): that
  // path is what the user wants, rather than any moment or spelling of this one.
  const left = leftSourceHint(store, other);
  // Nothing ever recorded there: named with its recorded spelling where it has one, as of
  // any moment and for any version (before, only a restore of the latest said it).
  const spelled = left || (recorded ? "" : spellingHint(store, target, other));
  if (sel.kind === "version") {
    const range = seqRange(store.copiesOf(target));
    return range === undefined
      ? `'${target}' is not in the backup${spelled}`
      : `'${target}' has no version ${sel.seq}: it has versions ${range[0]} to ` +
        `${range[1]} (see '${commandHint(`history ${target}`)}')${left}`;
  }
  const what = target === "" ? "the backup holds no files" : `'${target}' is not in the backup`;
  if (sel.kind === "at") {
    const early = left || tooEarly(store, target, at!) ||
      deletedBefore(store, target, at!, lists) ||
      folderNotThen(store, target, at!, lists);
    return `${what} as of ${new Date(at!).toISOString()}${early || spelled}`;
  }
  if (!recorded) {
    const gone = left ? "" : folderNotThen(store, target, Infinity, lists);
    return gone ? `${what} any more${gone}` : `${what}${spelled}`;
  }
  return target === ""
    ? "the backup holds no current files: use --at TIME to restore files deleted since"
    : `${what} any more${
      deletedBefore(store, target, Infinity, lists) ||
      ": it was deleted; use --at TIME to restore it"
    }`;
}

/**
 * Where a file's contents all ended at or before `at` (Infinity: no --at given, the latest)
 * (or it came back only after), when it was deleted, and the content it had then, to give
 * instead; for a folder, when the last of its files was; where purged (backup-tool purge),
 * when and how, not deleted. Read only for a PATH that matched nothing, so a folder's rows
 * are read once more.
 */
function deletedBefore(store: StateStore, target: string, at: number, lists = false): string {
  const own = store.copiesOf(target);
  const folder = own.length === 0;
  let last: StoredCopy | undefined;
  let next: StoredCopy | undefined;
  for (const c of folder ? rowsBelow(store, target) : own) {
    if (c.validTo !== null && c.validTo <= at && (!last || c.validTo > last.validTo!)) last = c;
    if (c.validFrom > at && (!next || c.validFrom < next.validFrom)) next = c;
  }
  if (last === undefined) return "";
  const when = new Date(last.validTo!).toISOString();
  // Purged (backup-tool purge) and nothing of it stored since: no moment or version to give.
  if (next === undefined && last.location === "purged") {
    const rows = folder ? [...rowsBelow(store, target)] : own;
    if (!rows.some(isStored)) {
      // The purge's time, not the deletion's: a deleted file's copy keeps its valid_to.
      const latest = rows.reduce((max, c) => Math.max(max, c.prunedAt ?? c.validTo ?? 0), 0);
      const purgedAt = new Date(latest).toISOString();
      return folder
        ? `: its files were purged at ${purgedAt} (backup-tool purge): no copy of them is left`
        : `: it was purged at ${purgedAt} (backup-tool purge): no copy of it is left`;
    }
  }
  // Purged, backed up again since: not deleted from its source (a folder: its last file
  // purged); no earlier moment gives it, or them.
  if (next !== undefined && last.location === "purged") {
    const from = last.validTo;
    const span = store.endedExclusions(target).find((e) =>
      e.path === last!.path && e.by === "purged" && e.from === from
    );
    const [it, them] = folder ? ["its files were", "them"] : ["it was", "it"];
    const excluded = span ? `excluded at ${when} (the config left ${them} out) and ` : "";
    const purgedAt = new Date(span?.to ?? last.prunedAt ?? from!).toISOString();
    const again = new Date(next.validFrom).toISOString();
    return `: ${it} ${excluded}purged at ${purgedAt} (backup-tool purge), then ` +
      `${folder ? "files in it were " : ""}backed up again at ${again}: give that time to --at`;
  }
  const deleted = folder
    ? `: the last of its files was deleted at ${when}`
    : `: it was deleted at ${when}`;
  // Its last content's copy gone since (retention.keep_deleted_days, found missing): neither
  // --at before the deletion nor --version of that content would give it back.
  if (next === undefined && !folder && !isStored(last)) {
    const gone = `${deleted}, and its last content (version ${last.seq}) was ${goneHow(last)}`;
    const earlier = own.filter(isStored).reduce((max, c) => Math.max(max, c.seq), 0);
    if (earlier === 0) return `${gone}: no copy of it is left`;
    return lists
      ? `${gone}: '${commandHint(`history ${target}`)}' lists the earlier ones still stored`
      : `${gone}: restore an earlier one with --version ${earlier} ` +
        `(see '${commandHint(`history ${target}`)}')`;
  }
  // A folder's: every copy of its files gone since, the latest of them as said.
  if (next === undefined && folder && !isStored(last)) {
    const rows = [...rowsBelow(store, target)];
    if (!rows.some(isStored)) {
      const latest = rows.reduce((a, c) => (c.prunedAt ?? 0) > (a.prunedAt ?? 0) ? c : a);
      const how = latest.location === "lost"
        ? "found missing"
        : latest.location === "purged"
        ? "purged (backup-tool purge)"
        : "pruned by retention";
      const when = latest.prunedAt === null
        ? ""
        : ` (the last at ${new Date(latest.prunedAt).toISOString()})`;
      return `${deleted}, and their copies were ${how}${when}: no copy of them is left`;
    }
  }
  if (next !== undefined) {
    return `${deleted} and ${folder ? "files in it were " : ""}backed up again at ` +
      `${new Date(next.validFrom).toISOString()}: give an earlier time or that one to --at`;
  }
  // Without --at (the latest), the remedy names the option to add rather than an earlier one.
  const earlier = at !== Infinity
    ? "give an earlier time to --at"
    : lists
    ? "give --at a time before that"
    : "restore it with --at a time before that";
  if (folder) return `${deleted}: ${earlier}`;
  // ls takes no --version: one file's contents are what history lists.
  if (lists) {
    return `${deleted}: ${earlier}, or see '${commandHint(`history ${target}`)}' for its contents`;
  }
  const version = at === Infinity ? "with --version" : "--version";
  return `${deleted}: ${earlier}, or ${version} ${last.seq} for its last content`;
}

/** How a content's copy went, and when: as history's WHERE says it. */
function goneHow(c: StoredCopy): string {
  const when = c.prunedAt === null ? "" : ` at ${new Date(c.prunedAt).toISOString()}`;
  if (c.location === "lost") return `found missing${when}`;
  return c.location === "purged"
    ? `purged${when} (backup-tool purge)`
    : `pruned by retention${when}`;
}

/** Every recorded content below a logical folder, a page at a time. */
function* rowsBelow(store: StateStore, folder: string): Generator<StoredCopy> {
  for (const page of store.copyPages(folder)) yield* page;
}

/**
 * For a folder that holds no file (empty, or holding only folders), whose spans the state
 * keeps (state/folder_spans.ts), not standing at `at` (Infinity: the latest): when a walk
 * found it gone, with the moment to give instead (or when it stood again), or, before it
 * first stood, that time; nothing where no span of it is recorded.
 */
function folderNotThen(store: StateStore, target: string, at: number, lists: boolean): string {
  if (target === "") return "";
  const spans = store.folderSpans(target);
  const iso = (ms: number) => new Date(ms).toISOString();
  const ended = spans.filter((s) => s.to !== null && s.to <= at).at(-1);
  if (ended === undefined) {
    const first = spans[0];
    if (first === undefined || first.from <= at) return "";
    return `: the folder was first seen at ${iso(first.from)}: give that time or a later ` +
      "one to --at";
  }
  const gone = `: the folder was found gone at ${iso(ended.to!)}`;
  const again = spans.find((s) => s.from > at);
  if (again !== undefined) {
    return `${gone} and stood again from ${iso(again.from)}: give an earlier time or that one ` +
      "to --at";
  }
  if (at !== Infinity) return `${gone}: give an earlier time to --at`;
  return `${gone}: ${
    lists ? "give --at a time before that" : "restore it with --at a time before that"
  }`;
}

/**
 * Where an `--at` moment comes before the backup's first files (or a file's first content),
 * that time, to give instead: else nothing. A folder PATH gets nothing: its files' times
 * are not looked up for a hint.
 */
function tooEarly(store: StateStore, target: string, at: number): string {
  const first = target === ""
    ? store.firstRecordedTime()
    : store.copiesOf(target).reduce<number | undefined>(
      (min, c) => min === undefined || c.validFrom < min ? c.validFrom : min,
      undefined,
    );
  if (first === undefined || first <= at) return "";
  const what = target === "" ? "its first files were" : "it was first";
  return `: ${what} backed up at ${new Date(first).toISOString()}: give that time or a later ` +
    "one to --at";
}

/**
 * Where the PATH's other reading is a path recorded as it is (only the reading under a
 * source the config no longer names is: `PathResolver.leftReading`), that path, to give.
 */
export function leftSourceHint(
  store: Pick<StateStore, "isRecorded" | "isRecordedBelow">,
  other: string | undefined,
): string {
  if (other === undefined || !(store.isRecorded(other) || store.isRecordedBelow(other))) return "";
  const source = other.slice(0, other.indexOf("/"));
  return `, but '${other}' is recorded (source '${source}', which the config no longer ` +
    "names): give that path";
}

/**
 * Where nothing is recorded under a path's spelling but a path or folder is under another
 * (letter case, Unicode form: as a disk that ignores them shows it), which; never taken for
 * it, a name in the other Unicode form said so (letter case is not what differs). A PATH
 * given in single quotes of its own is told that they are part of it: Windows' cmd.exe
 * passes them on (`restore 'docs\My file.txt'`), and names hardly ever begin and end with
 * one.
 */
export function spellingHint(
  store: Pick<StateStore, "otherSpellings">,
  path: string,
  /** The PATH's other reading, if it has one (`PathResolver.otherReading`). */
  other?: string,
): string {
  if (path === "") return "";
  const others = [
    ...new Set(
      [path, ...other === undefined ? [] : [other]].flatMap((p) => store.otherSpellings(p, 3)),
    ),
  ].slice(0, 3);
  if (others.length === 0) {
    return givenNotUtf8(path) ? NOT_UTF8_HINT : inQuotes(path) ? QUOTES_HINT : "";
  }
  const names = others.map((o) => `'${o}'`);
  if (names.length === 3) names[2] = "…";
  // Another Unicode form of the very name (café.txt as macOS writes it): no letter case.
  const form = others.length === 1 && others[0].normalize("NFC") === path.normalize("NFC");
  if (form) {
    return `: did you mean ${names[0]}? (recorded so, the same name written ` +
      `${unicodeForm(others[0])}: give the path as the disk spells it (the two look alike ` +
      "on screen))";
  }
  return names.length === 1
    ? `: did you mean ${names[0]}? (recorded so; the backup tells letter case apart)`
    : `: it is recorded under other spellings: ${names.join(", ")} (the backup tells letter ` +
      "case apart)";
}

/** Which Unicode normal form a name is written in, as people know them. */
export function unicodeForm(name: string): string {
  return name === name.normalize("NFD")
    ? "decomposed (NFD, as macOS writes names)"
    : "composed (NFC)";
}

/**
 * A PATH with U+FFFD in it: Deno decodes an argument that is not valid UTF-8 so (a terminal
 * or a script writing Latin-1), and no name the backup holds was stored from such bytes.
 */
const NOT_UTF8_HINT = `: ${notUtf8Given("PATH")}`;

const QUOTES_HINT = ": the single quotes around it are part of the PATH (cmd.exe passes them " +
  'on): give it in double quotes, "like this", or none';

/** Whether a logical path's part in its source begins and ends with a single quote. */
function inQuotes(path: string): boolean {
  return /^(?:[^/]*\/)?'.*'$/s.test(path);
}

/**
 * The lowest and highest content numbers of a path's copies (undefined for none), by a
 * loop: Math.min(...seqs) overflows the stack past some 120,000 contents.
 */
export function seqRange(copies: readonly { seq: number }[]): [number, number] | undefined {
  if (copies.length === 0) return undefined;
  let lo = copies[0].seq, hi = copies[0].seq;
  for (const c of copies) {
    if (c.seq < lo) lo = c.seq;
    if (c.seq > hi) hi = c.seq;
  }
  return [lo, hi];
}
