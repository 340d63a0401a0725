/**
 * A watch printing to a terminal that is closed (an ssh session dropped, a terminal window
 * shut): the kernel hangs the terminal up, every later write to it fails with EIO, and
 * SIGHUP stops the watch, which must exit 0 as the README's exit codes say, not 1 for
 * output it could not write to a terminal no one reads any more. The terminal is a
 * pseudo-terminal opened through glibc (Linux; ignored elsewhere), its master
 * closed as a terminal emulator's is; the watch's stdout and stderr are its other end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, toolCommand } from "./helpers.ts";

const SYMBOLS = {
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname: { parameters: ["i32"], result: "pointer" },
  close: { parameters: ["i32"], result: "i32" },
} as const;
/** O_RDWR | O_NOCTTY | O_CLOEXEC: the master is not inherited, so closing it hangs up. */
const PTY_FLAGS = 0o2 | 0o400 | 0o2000000;

/** A new pseudo-terminal: its master's descriptor and its slave's path. */
function openPty(libc: Deno.DynamicLibrary<typeof SYMBOLS>): { master: number; slave: string } {
  const master = libc.symbols.posix_openpt(PTY_FLAGS);
  assert.ok(master >= 0, "posix_openpt failed");
  assert.equal(libc.symbols.grantpt(master), 0);
  assert.equal(libc.symbols.unlockpt(master), 0);
  const name = libc.symbols.ptsname(master);
  assert.ok(name !== null);
  return { master, slave: new Deno.UnsafePointerView(name).getCString() };
}

Deno.test({
  name: "watch on a terminal that is closed: SIGHUP stops it with exit 0, its log complete",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    const libc = Deno.dlopen("libc.so.6", SYMBOLS);
    let master: number | undefined;
    try {
      const pty = openPty(libc);
      master = pty.master;
      const tool = toolCommand(["watch", "--config", fx.config]);
      const quoted = [tool.cmd, ...tool.args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`);
      // The shell opens the terminal for the watch and replaces itself with it.
      const child = new Deno.Command("sh", {
        args: ["-c", `exec ${quoted.join(" ")} >'${pty.slave}' 2>&1`],
        stdin: "null",
      }).spawn();
      await poll(
        "the watch to start",
        () => fx.lastLog().some((l) => l.startsWith("Watch started")),
      );
      // The terminal goes away: written to, it answers EIO from now on.
      libc.symbols.close(master);
      master = undefined;
      child.kill("SIGHUP");
      const status = await child.status;
      assert.equal(status.code, 0, `exit code ${status.code} (signal ${status.signal})`);
      const log = fx.lastLog();
      assert.match(log[log.length - 1], /^Watch stopped/, log.join("\n"));
      assert.ok(Deno.statSync(join(fx.backup, "a.txt")).isFile);
    } finally {
      if (master !== undefined) libc.symbols.close(master);
      libc.close();
    }
  },
});
