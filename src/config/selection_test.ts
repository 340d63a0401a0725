import assert from "node:assert/strict";
import { clearSelection, commandHint, selectBackup, shellWord } from "./selection.ts";

Deno.test("commandHint: the option that selected the backup, where the command takes it", () => {
  clearSelection();
  try {
    assert.equal(commandHint("verify --repair"), "verify --repair");
    selectBackup("backup-root", "/media/usb/backup");
    assert.equal(commandHint("verify --repair"), "verify --repair --backup-root /media/usb/backup");
    assert.equal(commandHint("history PATH"), "history PATH --backup-root /media/usb/backup");
    // run, plan, watch and purge take a config only: named with one to fill in, never bare.
    assert.equal(commandHint("run --force"), "run --force --config FILE");
    assert.equal(commandHint("purge PATH"), "purge PATH --config FILE");
    selectBackup("config", "/etc/backup-tool/config.jsonc");
    assert.equal(commandHint("run --force"), "run --force --config /etc/backup-tool/config.jsonc");
  } finally {
    clearSelection(); // the other tests of this process see none
  }
});

Deno.test("shellWord: bare where a shell reads it so, else double-quoted, escaped on POSIX", () => {
  assert.equal(shellWord("/a/b-c_d.jsonc", "linux"), "/a/b-c_d.jsonc");
  assert.equal(shellWord("/my dir/c.jsonc", "linux"), '"/my dir/c.jsonc"');
  assert.equal(shellWord('/a/$x`"\\', "linux"), '"/a/\\$x\\`\\"\\\\"');
  assert.equal(shellWord("/media/Backup!/c.jsonc", "linux"), '"/media/Backup"\\!"/c.jsonc"');
});

Deno.test("shellWord on Windows: bare where cmd.exe and PowerShell read it so, else double-quoted", () => {
  // No quotes where none is needed: a backslash is no escape to either shell.
  assert.equal(shellWord("C:\\Backup\\config.jsonc", "windows"), "C:\\Backup\\config.jsonc");
  assert.equal(shellWord("D:\\", "windows"), "D:\\");
  assert.equal(shellWord("C:\\PROGRA~1\\b-t_1+2=3@x", "windows"), "C:\\PROGRA~1\\b-t_1+2=3@x");
  assert.equal(shellWord("\\\\server\\share\\b", "windows"), "\\\\server\\share\\b");
  // Double quotes, never single ones (cmd.exe passes those on as part of the word), and
  // no POSIX escape inside them: a backslash stays a path separator, '!' stays as it is.
  assert.equal(shellWord("C:\\My Backup\\c.jsonc", "windows"), '"C:\\My Backup\\c.jsonc"');
  assert.equal(shellWord("C:\\Backup!\\c.jsonc", "windows"), '"C:\\Backup!\\c.jsonc"');
  for (
    const c of ["&", "|", "<", ">", "^", "(", ")", ";", ",", "'", "#", "{", "[", "%", "$", "`"]
  ) {
    const path = `C:\\a${c}b\\c.jsonc`;
    assert.equal(shellWord(path, "windows"), `"${path}"`, c);
  }
  // A trailing backslash doubled: '\"' would be read as a quote inside the word.
  assert.equal(shellWord("\\\\server\\my share\\", "windows"), '"\\\\server\\my share\\\\"');
  // The same paths on POSIX as before: single-quoted hints, POSIX escapes.
  assert.equal(shellWord("C:\\My Backup", "linux"), '"C:\\\\My Backup"');
  assert.equal(shellWord("/a/b c", "darwin"), '"/a/b c"');
});

Deno.test("commandHint: the option's path quoted for the platform given", () => {
  clearSelection();
  try {
    selectBackup("config", "C:\\My Backup\\c.jsonc");
    assert.equal(
      commandHint("verify --repair", "windows"),
      'verify --repair --config "C:\\My Backup\\c.jsonc"',
    );
    assert.equal(
      commandHint("verify --repair", "linux"),
      'verify --repair --config "C:\\\\My Backup\\\\c.jsonc"',
    );
    selectBackup("backup-root", "E:\\backup");
    assert.equal(commandHint("history PATH", "windows"), "history PATH --backup-root E:\\backup");
  } finally {
    clearSelection();
  }
});

/** What a shell (`sh`, or bash as a user types at it, history expansion on) reads `word` as. */
async function readBy(shell: string[], word: string): Promise<string> {
  const child = new Deno.Command(shell[0], {
    args: shell.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    env: { HOME: "/nonexistent", HISTFILE: "/dev/null", PS1: "" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`printf '%s\\n' ${word}\nexit\n`));
  await writer.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).replace(/\n$/, "");
}

Deno.test({
  name:
    "shellWord: a path copied as said is read as that path by sh and by an interactive bash, '!' too",
  ignore: Deno.build.os === "windows",
  async fn() {
    const paths = [
      "/my dir/c.jsonc",
      "/media/Backup!/c.jsonc",
      "/a!b",
      '/it\'s/$HOME/`x`/"q"/back\\slash/!!/c.jsonc',
    ];
    for (const path of paths) {
      const word = shellWord(path, "linux");
      assert.equal(await readBy(["sh"], word), path, `sh: ${word}`);
      assert.equal(await readBy(["bash", "--norc", "-i"], word), path, `bash -i: ${word}`);
    }
  },
});
