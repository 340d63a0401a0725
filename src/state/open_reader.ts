/**
 * Opening the state for a reader (`plan`, `restore`, `history`, `verify`): read-only, the
 * WAL's shared-memory index included (see `openReader`). Opens only; nothing is written,
 * so an interruption leaves nothing.
 */
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { errorText } from "../engine/errors.ts";

/**
 * A read-only connection that never writes the WAL's index (-shm) either: a reader that
 * is the first to open the state after a crash would otherwise rebuild the index in that
 * file (SQLite's recovery), changing the backup root, and `plan` is to change nothing.
 * With `readonly_shm`, SQLite maps the -shm read-only, as it does where the file may not be
 * written (a read-only disk, another user's state): while a run holds the state it reads
 * through the run's index; where none does, it builds the index from the WAL in its own
 * memory, checking each frame as recovery does, so it reads what recovery would. Where no
 * -shm is there to map (a WAL left without one), or the URI cannot be given (a `deno run`
 * without every permission), it opens as before, which makes or rewrites one; and so does
 * a state on a Windows share (see `readerUrl`).
 */
export function openReader(
  file: string,
  url = readerUrl(file, Deno.build.os === "windows"),
): DatabaseSync {
  if (url === undefined) return new DatabaseSync(file, { readOnly: true });
  let db: DatabaseSync | undefined;
  try {
    // Deno takes a file: URL as an SQLite URI only with every permission (`-A`, the
    // compiled binary): under fewer it reads the URL as a relative path, which no file is
    // at, and the open fails as the WAL without -shm does.
    db = new DatabaseSync(url, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 5000");
    db.prepare("PRAGMA schema_version").get(); // a first read maps the -shm, if WAL is on
    return db;
  } catch (e) {
    db?.close();
    if (!/unable to open database file/i.test(errorText(e))) throw e;
    return new DatabaseSync(file, { readOnly: true });
  }
}

/**
 * The file URI of `file` with `readonly_shm`; undefined for a path on a Windows share
 * (`\\server\share\…`, the real path of a mapped drive too), whose URI names the server as
 * its host, which SQLite refuses ("invalid uri authority"): there the state is opened by
 * its path, as before, and WAL is not used on a network share (connection.ts), so that
 * there is no -shm to leave as it was.
 */
export function readerUrl(file: string, windows: boolean): URL | undefined {
  const url = pathToFileURL(file, { windows });
  if (url.host !== "") return undefined;
  url.search = "readonly_shm=1";
  return url;
}
