/**
 * The command-line tools the extended-attribute tests read and set attributes with
 * (`getfattr`/`setfattr` from Debian's `attr`, `getfacl`/`setfacl` from `acl`), and why
 * those tests cannot run here, where they cannot. Reads and sets only what a test names.
 */
import { join } from "node:path";

/** Runs a tool; its stdout, or undefined where it fails or is missing. */
export function tool(cmd: string, ...args: string[]): string | undefined {
  try {
    const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined; // not installed
  }
}

/**
 * Why attributes cannot be tested here, or undefined where they can: Linux, the tools
 * installed, and a temporary folder whose file system keeps user.* attributes on a file
 * (and, with `defaultAcl`, a default ACL on a folder).
 */
export function whyNoXattrs({ defaultAcl = false } = {}): string | undefined {
  if (Deno.build.os !== "linux") return "extended attributes are kept on Linux only";
  if (tool("setfattr", "--version") === undefined) return "setfattr is missing (apt install attr)";
  if (tool("setfacl", "--version") === undefined) return "setfacl is missing (apt install acl)";
  const dir = Deno.makeTempDirSync();
  try {
    const probe = join(dir, "probe");
    Deno.writeTextFileSync(probe, "");
    if (tool("setfattr", "-n", "user.probe", "-v", "1", probe) === undefined) {
      return `the temporary folder's file system keeps no user.* attributes ('${dir}')`;
    }
    if (defaultAcl && tool("setfacl", "-d", "-m", "u:65534:rx", dir) === undefined) {
      return `the temporary folder's file system keeps no default ACLs ('${dir}')`;
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** One attribute's value, or undefined where the entry has none of that name. */
export function attr(path: string, name: string): string | undefined {
  return tool("getfattr", "--only-values", "--absolute-names", "-n", name, path);
}
