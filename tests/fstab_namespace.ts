/**
 * Runs the CLI with a table written by a test seen as /etc/fstab: in a mount namespace of
 * its own (`unshare -m`, root only on Linux), where the table is bind-mounted over
 * /etc/fstab, so the machine's own table is neither read nor changed. The namespace goes
 * with the process; nothing is left behind.
 */
import { type CliResult, runProgram, toolCommand } from "./helpers.ts";

/** Runs `cmd` with `args`; true when it worked (false where it cannot be run at all). */
export async function succeeds(cmd: string, ...args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** The CLI with `fstab` seen as /etc/fstab (a mount namespace of its own). */
export function cliWithTable(fstab: string, args: string[]): Promise<CliResult> {
  const { cmd, args: full } = toolCommand(args);
  const script = 'mount --bind "$0" /etc/fstab && exec "$@"';
  return runProgram(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", script, fstab, cmd, ...full],
  );
}

/** Whether this process may make mount namespaces: root, on Linux, with unshare there. */
export const canUnshare = Deno.build.os === "linux" && Deno.uid?.() === 0 &&
  await succeeds("unshare", "--mount", "true");
