/**
 * Where a restored file goes: under `--to DIR`, keeping its logical path (without the source
 * name where only one source is known), or back into its source folder, which the config
 * must still name and which must still be where the last run found it (not reached through
 * a symlink changed since). On Windows, a name Windows would take for something else (a
 * stream, a device, a name it changes) is refused. Pure: nothing here touches the disk, so
 * an interruption leaves nothing behind.
 */
import { join } from "node:path";
import type { Source } from "../config/sources.ts";
import { WINDOWS_DEVICE_NAME } from "../engine/fs/portability.ts";

/** What a destination is told from: a PathResolver's sources and the system restored on. */
export interface RestorePlaces {
  /** Whether several sources are known: a path under `--to` then keeps its source's name. */
  readonly several: boolean;
  /** The configured sources (for in-place restores). */
  readonly sources: readonly Source[];
  /** The system restored on: its file names are checked (see `windowsNameProblem`). */
  readonly os: typeof Deno.build.os;
  /** Each source's folder as the last run found it (its real path). */
  readonly lastPaths: ReadonlyMap<string, string>;
  /** Read without a config: why each source not in `sources` is not restored in place. */
  readonly notInPlace?: ReadonlyMap<string, string>;
}

/**
 * Where a logical path is restored (`dest`): under `to`, or back into its source folder
 * (`base`, the folder the destination must stay inside).
 */
export function restoreDestination(
  places: RestorePlaces,
  path: string,
  to: string | undefined,
): { dest: string; base: string; toDir: boolean } {
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`Cannot restore '${path}': the recorded path is not a safe relative path`);
  }
  if (to !== undefined) {
    const kept = places.several ? parts : parts.slice(1);
    checkNames(places.os, path, kept);
    return { dest: join(to, ...kept), base: to, toDir: true };
  }
  const source = places.sources.find((s) => s.name === parts[0]);
  if (!source) {
    const why = places.notInPlace?.get(parts[0]) ?? "is no longer in the config";
    throw new Error(
      `Cannot restore '${path}' in place: source '${parts[0]}' ${why}: use --to DIR`,
    );
  }
  // The config's path reaches it through a symlink that leads elsewhere than where the
  // last run found it: changed since, perhaps by someone who may write the folder above
  // (root restoring in place would write wherever that someone pointed it).
  const last = places.lastPaths.get(source.name);
  if (source.written !== undefined && last !== undefined && last !== source.path) {
    throw new Error(
      `Cannot restore '${path}' in place: '${source.written}' now leads to ` +
        `'${source.path}', not to '${last}' where the last run found the source (a ` +
        `symlink on its way was changed since): restore with --to DIR`,
    );
  }
  checkNames(places.os, path, parts.slice(1));
  return { dest: join(source.path, ...parts.slice(1)), base: source.path, toDir: false };
}

/** Refuses names this system would take for something else (Windows only). */
function checkNames(os: typeof Deno.build.os, path: string, names: string[]): void {
  if (os !== "windows") return;
  for (const name of names) {
    const why = windowsNameProblem(name);
    if (why) {
      throw new Error(
        `Cannot restore '${path}' on Windows: the name '${name}' ${why}: restore it on ` +
          `Linux or macOS`,
      );
    }
  }
}

/**
 * Why Windows cannot hold a file name, or undefined. A backup made on Linux or macOS may
 * hold names that Windows takes for something else — `a:b` is the stream `b` of the file
 * `a`, `aux.txt` the AUX device, `a\b` a file in a folder — or silently changes (a trailing
 * dot or space is dropped), so writing them would put the content somewhere else.
 */
export function windowsNameProblem(name: string): string | undefined {
  // deno-lint-ignore no-control-regex
  if (/[<>:"|?*\\\x00-\x1f]/.test(name)) {
    return `holds a character Windows does not allow in names (< > : " | ? * \\ or a control character)`;
  }
  if (/[. ]$/.test(name)) return "ends with a dot or a space, which Windows drops";
  if (WINDOWS_DEVICE_NAME.test(name)) return "is a device name on Windows";
  return undefined;
}
