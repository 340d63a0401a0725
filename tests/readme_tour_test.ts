/**
 * Runs README's five-minute tour (the shell block between `tour:begin` and `tour:end`) in a
 * temporary folder with bash, `backup-tool` being the real CLI, so the README never goes
 * stale. Asserts every command succeeds and the restored version holds the first content.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, toolCommand } from "./helpers.ts";

function tourScript(): string {
  const readme = Deno.readTextFileSync(join(REPO, "README.md"));
  const block = readme.match(/<!-- tour:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- tour:end -->/);
  assert.ok(block, "README.md has no tour block between <!-- tour:begin --> and <!-- tour:end -->");
  return block[1];
}

Deno.test("README tour: every command runs and the restored version is the first content", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-tour-" });
  try {
    const { cmd, args } = toolCommand([]);
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    const script = `set -euo pipefail\nbackup-tool() { ${quoted} "$@"; }\n${tourScript()}`;
    const out = await new Deno.Command("bash", {
      args: ["-c", script],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `tour failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /^hello world$/m);
    assert.equal(Deno.readTextFileSync(join(dir, "tour", "restored", "one.txt")), "hello world\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
