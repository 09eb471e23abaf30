/**
 * Config values that are sent as HTTP header values (the API key, in `X-Api-Key`) are checked when
 * the config is loaded: a value a header cannot carry would otherwise fail every request, retried
 * forever (`Invalid header value`), while `configtest` said SUCCESS.
 *
 * A header value is bytes: visible ASCII, space and tab (RFC 9110, section 5.5). Deno's `fetch`
 * refuses NUL, CR, LF and the other control characters, refuses characters above U+00FF, and sends
 * U+0080-U+00FF as single Latin-1 bytes rather than the UTF-8 a file or a terminal holds, so no key
 * written with them would ever be accepted: those are refused too. Messages describe the character
 * and where it is, never the value, which is a secret.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** The first character of `value` an HTTP header value cannot carry, and where; none: undefined. */
export function headerValueProblem(value: string): string | undefined {
  const chars = [...value];
  const at = chars.findIndex((c) => {
    const code = c.codePointAt(0)!;
    return !(code === 0x09 || (code >= 0x20 && code < 0x7f));
  });
  if (at < 0) return undefined;
  return `${describe(chars[at].codePointAt(0)!)} at character ${at + 1} of ${chars.length}, ` +
    "which an HTTP header cannot carry";
}

function describe(code: number): string {
  if (code === 0x0a) return "a newline (LF)";
  if (code === 0x0d) return "a carriage return (CR)";
  if (code === 0x00) return "a NUL character";
  if (code < 0x20 || code === 0x7f) {
    return `a control character (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
  }
  return "a character outside ASCII";
}

/** Throws when `apikey` cannot be sent (the field's check in ./sections.ts); the key otherwise. */
export function checkApikey(apikey: string): string {
  const problem = headerValueProblem(apikey);
  if (problem !== undefined) throw new Error(`the API key has ${problem}`);
  return apikey;
}

/**
 * The API key from `origin` (`MACKEREL_APIKEY`, `-apikey`), or a `ConfigError` naming the origin
 * when it cannot be sent.
 */
export function apikeyFrom(origin: string, apikey: string): string {
  try {
    return checkApikey(apikey);
  } catch (error) {
    throw new ConfigError(`${origin}: ${(error as Error).message}`, { key: "apikey" });
  }
}
