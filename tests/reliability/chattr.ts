/**
 * Whether `chattr` can set the immutable and append-only flags here, for the tests that
 * make backup-root and source entries the tool cannot change. Looked at once per test file.
 */
import { isRoot, sh, which } from "./util.ts";

/**
 * Why `chattr` cannot set these flags here, or undefined where it can: root and the tool
 * are not enough, the temporary folder's file system must keep the flags (an older
 * kernel's tmpfs does not), and root needs CAP_LINUX_IMMUTABLE, which a container's lacks
 * by default: tried once, on a folder of its own, so that such a machine skips these tests.
 */
export async function whyNoChattr(): Promise<string | undefined> {
  if (!isRoot()) return "not running as root";
  if (which("chattr") === undefined) return "chattr is missing (apt install e2fsprogs)";
  const dir = Deno.makeTempDirSync({ prefix: "bt-chattr-" });
  try {
    await sh(`chattr +a '${dir}' && chattr -a '${dir}'`);
    return undefined;
  } catch (e) {
    return `chattr +a fails in the temporary folder: ${(e as Error).message.trim()}`;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Runs `fn` while `paths` carry `flag` (`+i`, `+a`), taken off again whatever happens. */
export async function withFlag<T>(flag: "+i" | "+a", paths: string[], fn: () => Promise<T>) {
  const quoted = paths.map((p) => `'${p}'`).join(" ");
  await sh(`chattr ${flag} ${quoted}`);
  try {
    return await fn();
  } finally {
    await sh(`chattr -${flag.slice(1)} ${quoted}`);
  }
}
