/**
 * A watch session reads its config once, at start. A change to the file afterwards (an
 * exclude added, a source added, a typo) is not applied until the watch is started again,
 * so it is said, once per change: otherwise a user who added an exclude would see the
 * files it names backed up still, without a word. The file is read when the watch begins,
 * before anything else, and again before each pass; memory only, an interruption leaves
 * nothing.
 */

/** Returns, before each pass, the warning to give if the config changed since last said. */
export function configChangeNotice(file: string): () => string | undefined {
  let said = fingerprint(file);
  return () => {
    const now = fingerprint(file);
    if (now === said) return undefined;
    said = now;
    return `The config '${file}' changed since this watch started: the watch goes on with ` +
      "the config it started with; stop it and start it again to apply the change";
  };
}

/**
 * The file's text (or that it is gone): a save that changes nothing (`touch`, an editor
 * saving again) is no change. A config is a few hundred bytes, read once a pass.
 */
function fingerprint(file: string): string | undefined {
  try {
    // A pipe the config came through (`--config <(…)`) is read once, at the start.
    if (!Deno.statSync(file).isFile) return "not a file";
    return Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
}
