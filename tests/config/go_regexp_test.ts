import assert from "node:assert/strict";
import fc from "fast-check";
import { compileGoRegexp } from "../../src/config/go_regexp.ts";

const errorOf = (source: string) => {
  try {
    compileGoRegexp(source);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
};

Deno.test("go regexp: syntax errors read as Go's regexp/syntax words them", () => {
  // Each line: the pattern and Go 1.2x's `regexp.Compile(pattern)` error text.
  const table: [string, string][] = [
    ["(unclosed", "missing closing ): `(unclosed`"],
    ["a(b(c)", "missing closing ): `a(b(c)`"],
    ["a)", "unexpected ): `a)`"],
    ["(a))b", "unexpected ): `(a))b`"],
    ["a[bc", "missing closing ]: `[bc`"],
    ["x[]", "missing closing ]: `[]`"],
    ["a**", "invalid nested repetition operator: `**`"],
    ["a*+", "invalid nested repetition operator: `*+`"],
    ["a{2}*", "invalid nested repetition operator: `{2}*`"],
    ["\\q", "invalid escape sequence: `\\q`"],
    ["(a)\\1", "invalid escape sequence: `\\1`"],
    ["\\xZZ", "invalid escape sequence: `\\xZZ`"],
    ["\\C", "invalid escape sequence: `\\C`"],
    ["[\\b]", "invalid escape sequence: `\\b`"],
    ["[z-a]", "invalid character class range: `z-a`"],
    ["[[:foo:]]", "invalid character class range: `[:foo:]`"],
    ["\\p{Klingon}", "invalid character class range: `\\p{Klingon}`"],
    ["*a", "missing argument to repetition operator: `*`"],
    ["a|+", "missing argument to repetition operator: `+`"],
    ["(?i)?", "missing argument to repetition operator: `?`"],
    ["x(*?)", "missing argument to repetition operator: `*?`"],
    ["abc\\", "trailing backslash at end of expression: ``"],
    ["a{1001}", "invalid repeat count: `{1001}`"],
    ["a{3,2}", "invalid repeat count: `{3,2}`"],
    ["(a{500}){3}", "invalid repeat count: `{3}`"],
    ["(?=x)", "invalid or unsupported Perl syntax: `(?=`"],
    ["(?!x)", "invalid or unsupported Perl syntax: `(?!`"],
    ["(?<=x)", "invalid named capture: `(?<=x)`"],
    ["(?P<>a)", "invalid named capture: `(?P<>`"],
    ["(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"],
  ];
  for (const [source, expected] of table) {
    assert.equal(errorOf(source), `error parsing regexp: ${expected}`, source);
  }
});

Deno.test("go regexp: what Go accepts but V8 cannot express fails in Go's form", () => {
  assert.equal(
    errorOf("(?P<1st>x)"),
    "error parsing regexp: invalid capture group name: `(?P<1st>x)`",
  );
});

Deno.test("go regexp: Go syntax V8 spells differently matches as in Go", () => {
  const matches = (source: string, text: string) => compileGoRegexp(source).test(text);
  // Literal braces and brackets where Go has no repetition or class.
  assert.ok(matches("^a{,5}}]$", "a{,5}}]"));
  assert.ok(matches("^a{$", "a{"));
  // \Q…\E, \A, \z, octal and \x{…}.
  assert.ok(matches("^\\Qa.b\\E+$", "a.bbb"));
  assert.ok(!matches("^\\Qa.b\\E+$", "axb"));
  assert.ok(matches("\\Aab\\z", "ab"));
  assert.ok(!matches("\\Aab\\z", "ab\n"));
  assert.ok(matches("^\\101\\x42\\x{43}$", "ABC"));
  // POSIX classes, negated too; a dash after a class escape is a literal.
  assert.ok(matches("^[[:alpha:]_]+$", "ab_C"));
  assert.ok(matches("^[[:^digit:]]+$", "ab"));
  assert.ok(!matches("^[[:^digit:]]+$", "a1"));
  assert.ok(matches("^[\\d-a]+$", "1-a"));
  // Unicode classes by Go's names.
  assert.ok(matches("^\\pL+$", "héllo"));
  assert.ok(matches("^\\p{Greek}+$", "αβγ"));
  assert.ok(matches("^\\p{greek}$", "α"));
  assert.ok(matches("^\\P{L}$", "1"));
  // Flags anywhere, for the rest of their group, across `|`.
  assert.ok(matches("a(?i)b|c", "C"));
  assert.ok(matches("a(?i)b|c", "aB"));
  assert.ok(!matches("(?i)a(?-i)b", "AB"));
  assert.ok(matches("(?i)a(?-i)b", "Ab"));
  assert.ok(matches("^(?i:ab)c$", "ABc"));
  assert.ok(!matches("^(?i:ab)c$", "ABC"));
  assert.ok(matches("(?s)^a.b$", "a\nb"));
  assert.ok(!matches("^a.b$", "a\nb"));
  assert.ok(matches("(?m)^b$", "a\nb\nc"));
  // (?U) swaps greedy and lazy.
  assert.equal(compileGoRegexp("(?U)a+").exec("aaa")?.[0], "a");
  assert.equal(compileGoRegexp("(?U)a+?").exec("aaa")?.[0], "aaa");
  // A repeated empty-width assertion, which V8 refuses bare.
  assert.ok(matches("^*x", "x"));
  // Named groups in both of Go's spellings.
  assert.equal(compileGoRegexp("(?P<a>x)(?<b>y)").exec("xy")?.groups?.b, "y");
});

Deno.test("go regexp: any input compiles or fails with one Go-style line, never another error", () => {
  const alphabet = fc.constantFrom(
    ..."ab()[]{}|*+?^$.\\-:=<>!,0123456789PpQEAzxdwsiUmL_^ ".split(""),
    "[:alpha:]",
    "\\p{Greek}",
    "(?P<n>",
    "(?i)",
    "{2,3}",
  );
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 24 }).map((parts) => parts.join("")), (source) => {
      try {
        assert.ok(compileGoRegexp(source) instanceof RegExp);
      } catch (error) {
        assert.match((error as Error).message, /^error parsing regexp: [^\n]+: `[^]*`$/, source);
      }
    }),
    { numRuns: 2000 },
  );
});
