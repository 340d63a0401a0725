/** Test helpers for the state store: a real SQLite state in a temporary folder. */
import { join } from "node:path";
import { StateStore } from "./store.ts";

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
