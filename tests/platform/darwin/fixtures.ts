/**
 * Where the macOS command outputs are (`tests/fixtures/darwin/README.md` says where each comes from).
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The directory of the macOS fixtures. */
export const DARWIN_FIXTURES = fileURLToPath(new URL("../../fixtures/darwin/", import.meta.url));

/** The text of fixture `name`. */
export function darwinFixture(name: string): string {
  return Deno.readTextFileSync(DARWIN_FIXTURES + name);
}
