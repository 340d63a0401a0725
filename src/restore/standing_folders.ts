/**
 * The folders a restore makes besides those on the way to its files: every source folder
 * that stood at the moment restored (the latest: those standing at the last walk), below
 * the PATHs asked for (and a folder PATH itself), empty ones and those holding only folders
 * too (state/folder_spans.ts keeps when each stood). The `--include` and `--exclude` patterns keep a folder as they
 * keep a file, read as a folder (`logs/`). A file's PATH has no folders below it, and a
 * `--version` picks one file: neither makes any. A source's own folder is the restore's
 * base, made as it always is. A folder the restore cannot place (a source the config no
 * longer names, restored in place) is left out, and said (request.ts). Reads only.
 */
import type { StateStore } from "../state/store.ts";
import { outermost, type Selector } from "./asof.ts";
import type { PathFilter } from "./path_filter.ts";

/** A folder to make: its logical path, where it goes, and the folder it must stay inside. */
export interface FolderItem {
  logical: string;
  dest: string;
  base: string;
  /** Whether `base` is a `--to` folder rather than the source folder. */
  toDir?: boolean;
}

/**
 * The logical paths of the folders that stood at the moment `sel` names, at and below
 * `targets`, read a page at a time as they are taken.
 */
export function* standingFolders(
  store: StateStore,
  sel: Selector,
  targets: readonly string[],
  filter?: PathFilter,
): Generator<string> {
  if (sel.kind === "version") return;
  const at = sel.kind === "at" ? sel.time : undefined;
  const whole = targets.length === 0 || targets.includes("");
  // A PATH below another PATH given adds nothing: its folders are the other's too.
  const tops = whole ? [""] : outermost(targets);
  for (const top of tops) {
    // A folder PATH is made itself, where it stood: it may hold nothing (an empty folder).
    if (top.includes("/") && store.folderStood(top, at) && (!filter || filter.keeps(`${top}/`))) {
      yield top;
    }
    for (let page = store.foldersStanding(top, at); page.length > 0;) {
      for (const path of page) {
        if (!path.includes("/")) continue; // a source's own folder: the restore's base
        if (filter && !filter.keeps(`${path}/`)) continue;
        yield path;
      }
      page = store.foldersStanding(top, at, page[page.length - 1]);
    }
  }
}

/**
 * Where each folder goes (`place`: as a file's destination is found); one with none (a
 * source the config no longer names, restored in place) is left out, told to `unplaced`.
 */
export function* folderItems(
  paths: Iterable<string>,
  place: (logical: string) => { dest: string; base: string; toDir?: boolean },
  unplaced: (logical: string, e: unknown) => void,
): Generator<FolderItem> {
  for (const logical of paths) {
    let item: FolderItem;
    try {
      item = { logical, ...place(logical) };
    } catch (e) {
      unplaced(logical, e);
      continue;
    }
    yield item;
  }
}
