/** Test helpers for the state store: a real SQLite state in a temporary folder. */
import { join } from "node:path";
import { StateStore } from "./store.ts";
import type { Action, ScanEntry } from "../core/types.ts";

/** Runs `fn` with a new state store, then closes it and removes its folder. */
export function withStore(fn: (store: StateStore) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "bt-store-" });
  const store = StateStore.open(join(dir, "state.db"));
  try {
    fn(store);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

/** A file as a walk would report it, with made-up stat fields. */
export function fileEntry(path: string): ScanEntry {
  return {
    path,
    abs: `/x/${path}`,
    kind: "file",
    size: 1,
    mtimeMs: 1,
    ctimeMs: 1,
    ino: 1,
    dev: 1,
    mode: 0o100644,
  };
}

/** A new file's backup action, its copy at its own path (sha256 unless said). */
export function backupAction(path: string, hash: string, algo = "sha256"): Action {
  return {
    type: "backup",
    path,
    seq: 1,
    target: path,
    content: { hash, algo, entry: fileEntry(path) },
  };
}
