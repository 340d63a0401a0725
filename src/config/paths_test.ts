/** Unit tests of config path resolution: what `absolute` refuses, per system. */
import assert from "node:assert/strict";
import { absolute } from "./paths.ts";
import { Invalid } from "./errors.ts";

Deno.test("absolute: on Windows, a backslash JSON took for an escape is refused, with the remedy", () => {
  // `"C:\backup"` in the config: JSON reads `\b` as a backspace.
  assert.throws(
    () => absolute("C:\\cfg", "C:\backup", "backup_root", "windows"),
    (e: unknown) =>
      e instanceof Invalid &&
      e.message.startsWith("'backup_root' 'C:\\backup' holds a control character") &&
      e.message.includes(`write each backslash twice ("C:\\\\backup") or use '/'`),
  );
  for (const escaped of ["D:\trips", "E:\new", "F:\film", "G:\raw"]) {
    assert.throws(() => absolute("C:\\cfg", escaped, "log_dir", "windows"), Invalid);
  }
  // Linux and macOS names may hold control characters: taken as written there.
  assert.equal(absolute("/cfg", "a\tb", "log_dir", "linux"), "/cfg/a\tb");
});

Deno.test("absolute: a path starting with a %VARIABLE% is refused, as ~ and $HOME are", () => {
  assert.throws(
    () => absolute("/cfg", "%USERPROFILE%\\backup", "backup_root", "linux"),
    (e: unknown) =>
      e instanceof Invalid &&
      e.message ===
        "'backup_root' '%USERPROFILE%\\backup' starts with '%', which the config does not " +
          "expand: write the full path",
  );
  assert.throws(() => absolute("/cfg", "%ProgramFiles(x86)%/x", "log_dir", "linux"), Invalid);
  // A name that merely holds a % is a name.
  assert.equal(absolute("/cfg", "%20/x", "log_dir", "linux"), "/cfg/%20/x");
  assert.equal(absolute("/cfg", "100%", "log_dir", "linux"), "/cfg/100%");
});
