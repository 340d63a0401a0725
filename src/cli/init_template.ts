/**
 * The config `init` writes: every key with a comment on what it does and its value from
 * `DEFAULTS`, so the file documents the configuration and stays in step with the loader
 * (config_doc_test: it holds every key the loader takes, at its default). Text only: it touches no file, and
 * an interruption leaves nothing behind (init.ts writes the file, `createNew`).
 */
import { DEFAULTS } from "../config/config.ts";

/** The commented config; values come from DEFAULTS so the file always matches the loader. */
export function configTemplate(
  opts: { sources: (string | { path: string; name: string })[]; backupRoot: string },
): string {
  const j = (v: unknown) => JSON.stringify(v);
  return `// backup-tool configuration (JSONC: comments and trailing commas are allowed).
// Written by 'backup-tool init'. Every key is explained below; all but "sources" and
// "backup_root" may be removed to use the default shown. Relative paths resolve against
// this file's folder.
{
  // Folders to back up. They must exist. With one source the backup mirrors it directly;
  // with several, each gets a folder _sources/<name> (a source added later to a backup of
  // one keeps that one at the top). The name is the basename, or a "name"; it ties a
  // source to its files, so keep it when the folder is renamed:
  //   "sources": [{ "path": "./photos", "name": "photos" }, "/srv/documents"]
  "sources": [${
    opts.sources.map((s) =>
      typeof s === "string" ? j(s) : `{ "path": ${j(s.path)}, "name": ${j(s.name)} }`
    ).join(", ")
  }],

  // Where the browsable backup and its state (.backup-tool/) live. Created when missing.
  // It may sit inside a source (it is skipped there) but a source may not sit inside it.
  "backup_root": ${j(opts.backupRoot)},

  // One log file per run (or watch session) is written here, one line per action.
  // Not inside backup_root.
  "log_dir": ${j(DEFAULTS.log_dir)},

  // How many of this backup root's newest logs to keep in log_dir; older ones are deleted
  // and each deletion is logged ("LOG ROTATE delete: ..."). Logs of other backup roots
  // sharing log_dir, and other files in it, are left alone.
  "log_retention": ${j(DEFAULTS.log_retention)},

  // Whether each run's log names every unchanged file ("SKIP: ..."), as the reference's
  // did; false counts them in one line instead (100,000 files: about 6 MB a log less).
  "log_unchanged": ${j(DEFAULTS.log_unchanged)},

  // Content hash that detects changed and duplicate files:
  // sha256 (default), sha512, sha384, sha224, sha512-256, sha512-224, sha3-256, sha3-512,
  // sha3-384, sha3-224, blake2b512, blake2s256 (also as Python names: sha3_256, blake2b,
  // sha512_256, ...), sha1 or md5.
  "hash_algorithm": ${j(DEFAULTS.hash_algorithm)},

  "retention": {
    // Older versions kept per file, as versions/<path>/vN.bak; beyond this many the
    // oldest are deleted (and logged).
    "max_versions_per_file": ${j(DEFAULTS["retention.max_versions_per_file"])},
    // Beside those, the newest version of each of the newest this many days that have
    // versions of the file (in time_zone) is kept too: with watch, which stores each saved
    // change, a day of edits would otherwise retire yesterday's versions. 0 keeps none.
    // 14 days, 8 weeks and 12 months keep at most 34 more versions of a file.
    "keep_daily": ${j(DEFAULTS["retention.keep_daily"])},
    // The same for weeks, Monday to Sunday.
    "keep_weekly": ${j(DEFAULTS["retention.keep_weekly"])},
    // The same for calendar months.
    "keep_monthly": ${j(DEFAULTS["retention.keep_monthly"])},
    // The time zone those days, weeks and months are cut in: "local" is the zone each
    // command runs in (TZ). Where runs are made in more than one zone (a scheduled job
    // in UTC, one by hand elsewhere), name one, e.g. "Europe/Berlin" or "UTC", so that
    // each keeps the same versions.
    "time_zone": ${j(DEFAULTS["retention.time_zone"])},
    // Days a deleted file's last content stays in _deleted/ (and restorable); older ones
    // are deleted (and logged). 0 keeps them for good. Keep it longer than a loss could
    // go unnoticed: a source lost and then cleared leaves its files only there.
    "keep_deleted_days": ${j(DEFAULTS["retention.keep_deleted_days"])}
  },

  // gitignore-style patterns matched against paths inside each source. Files that become
  // excluded keep their existing copies in the backup ('backup-tool purge PATH' deletes
  // them). Examples:
  //   "*.tmp", ".cache/", "node_modules/", "/build/", "!keep.tmp"
  "exclude": ${j(DEFAULTS.exclude)},
  // Files of more such patterns, one a line, as rsync's --exclude-from and restic's
  // --exclude-file take them (a list shared by several machines, or one a script writes),
  // e.g. ["./exclude.txt"]: blank lines and lines starting with '#' are skipped ('\\#'
  // starts a pattern with '#'). Their patterns come before exclude's. A watch applies
  // an edit of one (or of this file) while it runs.
  "exclude_from": ${j(DEFAULTS.exclude_from)},

  // true: leave out every folder holding a CACHEDIR.TAG that begins with the Cache
  // Directory Tagging signature (cargo's target/, pip's and ccache's caches), all but
  // the tag itself. Files backed up before keep their copies, as excluded ones do.
  "exclude_caches": ${j(DEFAULTS.exclude_caches)},
  // Names of entries that leave the folder holding one out, all but that entry, e.g.
  // [".nobackup"]. Names as a folder lists them, not patterns or paths.
  "exclude_if_present": ${j(DEFAULTS.exclude_if_present)},
  // true: leave out what is mounted inside a source (a USB disk, a NAS share, a btrfs
  // subvolume: another device than the source's folder), as rsync -x does: nothing below
  // the mount point is backed up.
  "one_file_system": ${j(DEFAULTS.one_file_system)},
  // Leave out every file larger than this, e.g. "500M" or "1.5G" (units K, M, G, T,
  // 1024-based, as restic reads them; a number alone is bytes). Each file left out is
  // said in the log and on stderr (SKIP LARGE). null: no limit.
  "exclude_larger_than": ${j(DEFAULTS.exclude_larger_than)},

  "watch": {
    // 'backup-tool watch' backs up a changed file once it has seen no further change
    // to it for this many milliseconds.
    "debounce_ms": ${j(DEFAULTS["watch.debounce_ms"])},
    // Seconds between full rescans while watching, to catch changes the file system
    // did not report (network drives, full event queues), at least 1. 0 turns them off.
    "rescan_interval": ${j(DEFAULTS["watch.rescan_interval"])}
  },

  "safety": {
    // A run that would archive more than this percentage of the tracked files as deleted,
    // or of one source's (an unmounted disk, an emptied folder), archives none of them and
    // exits with 1; 'backup-tool run --force' archives them anyway.
    "max_delete_percent": ${j(DEFAULTS["safety.max_delete_percent"])}
  },

  // true: read and hash every file on every run, even when its size and times are
  // unchanged (slower; catches changes that keep them). 'run --rehash' does it once.
  "rehash": ${j(DEFAULTS.rehash)},

  // On btrfs and XFS (reflink), a copy of a content the backup already holds (a
  // duplicate, a moved file, one put back to an old version) shares its disk blocks
  // with the stored copy, taking next to no room. false: every copy owns its blocks,
  // so a disk fault in one block damages one copy only, not every copy sharing it.
  "share_blocks": ${j(DEFAULTS.share_blocks)}
}
`;
}
