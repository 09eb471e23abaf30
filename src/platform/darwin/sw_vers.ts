/**
 * `sw_vers`, for the platform name and version of a macOS host's kernel part.
 *
 * @module
 */

/** What `sw_vers` prints. */
export interface SwVers {
  /** `macOS` (11 and later, and 10.12-10.14 on some builds), `Mac OS X`. */
  readonly productName?: string;
  readonly productVersion?: string;
  readonly buildVersion?: string;
}

const KEYS = {
  ProductName: "productName",
  ProductVersion: "productVersion",
  BuildVersion: "buildVersion",
} as const;

/**
 * Parses `sw_vers` (`ProductName:<tab>macOS` per line; the separator may also be spaces): the
 * same values `sw_vers -productName` and `-productVersion` print one by one.
 */
export function parseSwVers(text: string): SwVers {
  const found: { -readonly [K in keyof SwVers]: string } = {};
  for (const line of text.split("\n")) {
    const match = /^\s*(\w+):\s*(.*?)\s*$/.exec(line);
    if (match && Object.hasOwn(KEYS, match[1])) {
      found[KEYS[match[1] as keyof typeof KEYS]] = match[2];
    }
  }
  return found;
}
