/** The tool's version (semver), the one place it is written. */
export const VERSION = "0.1.0";
