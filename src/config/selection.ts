/**
 * The options that selected the backup a command works on (`--config FILE`, `--backup-root
 * DIR`), for the hints that name a command to run next ("run 'verify --repair'"): said with
 * them, such a hint copied as it is works on the same backup, not on the working folder's
 * config (which may name another backup root, or be missing). Recorded once by the CLI as
 * it parses a command's options (args.ts), the path made absolute; none where the command
 * took the working folder's config, which the command hinted at takes as well. Only the
 * commands that take an option get it: `--backup-root` goes to the reading commands, never
 * to `run`, `plan`, `watch` or `purge`, which take a config only (what they do depends on
 * what it excludes): after `--backup-root` they are named with `--config FILE`, a word to
 * fill in as the hint's PATH is, never bare, which would take the working folder's config
 * (`stats --backup-root DIR` naming `purge PATH`). Memory only.
 */
/** The commands that take `--backup-root` (bare_root.ts); every one takes `--config`. */
const TAKE_BACKUP_ROOT = ["restore", "ls", "history", "find", "diff", "stats", "verify"];

let selected: { option: "config" | "backup-root"; path: string } | undefined;

/** Records the option that selected the backup (`path` absolute), for `commandHint`. */
export function selectBackup(option: "config" | "backup-root", path: string): void {
  selected = { option, path };
}

/** Forgets it (tests, which run several commands in one process). */
export function clearSelection(): void {
  selected = undefined;
}

/**
 * `command` (such as `verify --repair`, as a hint names it) followed by the option that
 * selected the backup, where the command takes it: `verify --repair --config /etc/b.jsonc`;
 * `purge PATH --config FILE` after `--backup-root`, which purge does not take.
 */
export function commandHint(command: string, os: string = Deno.build.os): string {
  if (selected === undefined) return command;
  const name = command.split(" ")[0];
  if (selected.option === "backup-root" && !TAKE_BACKUP_ROOT.includes(name)) {
    return `${command} --config FILE`;
  }
  return `${command} --${selected.option} ${shellWord(selected.path, os)}`;
}

/**
 * A path as a shell takes it as one word, for the platform `os`. On POSIX: as it is where it
 * holds nothing a shell reads otherwise, else in double quotes (the hint itself is in
 * single quotes), `$`, `` ` ``, `"` and `\` escaped where a POSIX shell reads them, and
 * each `!` left out of them, escaped (`"/my dir"\!"/c.jsonc"`): an interactive bash or zsh
 * takes a `!` in double quotes for its history ("event not found"), one after a backslash
 * for itself, as sh does. On Windows, see `windowsWord`.
 */
export function shellWord(path: string, os: string = Deno.build.os): string {
  if (os === "windows") return windowsWord(path);
  if (/^[\w@%+=:,./-]+$/.test(path)) return path;
  return `"${path.replace(/[$`"\\]/g, (c) => `\\${c}`)}"`.replaceAll("!", '"\\!"');
}

/**
 * A Windows path as cmd.exe and PowerShell both take it as one word, where single quotes
 * mean nothing to cmd.exe: as it is where it holds only letters, digits, `\`, `/`, `:`,
 * `.`, `-`, `_`, `+`, `=`, `~` and `@` (`C:\Backup\config.jsonc`), read alike by both;
 * else in double quotes (`"C:\My Backup\c.jsonc"`), in which both take a space, `&`, `|`,
 * `(`, `;`, `,` (PowerShell's array), `#` and `'` as they are, a trailing `\` doubled so
 * that the program's own reading of its command line takes the closing quote as one (a
 * share's root, `"\\server\my share\\"`). No Windows path holds a `"`. Within the quotes
 * cmd.exe still reads `%NAME%` of a variable it has, and PowerShell `$name` and a
 * backtick: no word escapes them for both shells, so the path is said as it is.
 */
function windowsWord(path: string): string {
  if (/^[\w\\/:.\-+=~@]+$/.test(path)) return path;
  return `"${path.replace(/(\\+)$/, "$1$1")}"`;
}
