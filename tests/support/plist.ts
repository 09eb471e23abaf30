/**
 * A strict reader of XML property lists, for tests on machines without `plutil`: it accepts only
 * what Apple's PropertyList-1.0 DTD allows (a `plist` of one value; `dict` as key/value pairs with
 * unique keys; `array`, `string`, `integer`, `real`, `true`, `false`, `date`, `data`; no
 * attributes but `plist`'s `version`) and throws naming the first thing it does not.
 *
 * @module
 */

/** A property-list value. */
export type PlistValue =
  | string
  | number
  | boolean
  | Date
  | Uint8Array
  | PlistValue[]
  | { [key: string]: PlistValue };

const DOCTYPE = '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ' +
  '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">';

/** Reads an XML property list; throws on anything the DTD does not allow. */
export function parsePlist(xml: string): PlistValue {
  let rest = xml.replace(/^\uFEFF/, "");
  rest = rest.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\s*/, "");
  if (!rest.startsWith(DOCTYPE)) throw new Error("no plist DOCTYPE (Apple's PropertyList-1.0)");
  const tokens = tokenize(rest.slice(DOCTYPE.length));
  let at = 0;
  const next = () => {
    const token = tokens[at++];
    if (!token) throw new Error("the document ends too early");
    return token;
  };
  const open = next();
  if (open.kind !== "open" || open.name !== "plist" || open.attrs !== ' version="1.0"') {
    throw new Error(`expected <plist version="1.0">, found ${describe(open)}`);
  }
  const value = readValue(next(), next);
  const close = next();
  if (close.kind !== "close" || close.name !== "plist") {
    throw new Error(`expected </plist> after the one value, found ${describe(close)}`);
  }
  if (at !== tokens.length) throw new Error(`${describe(tokens[at])} after </plist>`);
  return value;
}

/** The elements whose text is their value, spaces included. */
const SCALARS = new Set(["key", "string", "integer", "real", "date", "data"]);

interface Token {
  readonly kind: "open" | "close" | "empty" | "text";
  readonly name: string;
  readonly attrs: string;
  readonly text: string;
}

function tokenize(xml: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /<(\/?)([a-z]+)([^>]*?)(\/?)>|([^<]+)|(<)/gy;
  for (const match of xml.matchAll(pattern)) {
    const [, slash, name, attrs, selfClose, text, stray] = match;
    if (stray) {
      throw new Error(`unreadable markup at ${JSON.stringify(xml.slice(match.index, 40))}`);
    }
    if (text !== undefined) {
      tokens.push({ kind: "text", name: "", attrs: "", text: decode(text) });
    } else {
      const kind = slash ? "close" : selfClose ? "empty" : "open";
      tokens.push({ kind, name, attrs, text: "" });
    }
  }
  // Whitespace between elements means nothing; text inside a scalar is kept by readValue.
  return tokens.filter((t, i) => {
    if (t.kind !== "text" || t.text.trim() !== "") return true;
    const [before, after] = [tokens[i - 1], tokens[i + 1]];
    return before?.kind === "open" && after?.kind === "close" && before.name === after.name &&
      SCALARS.has(before.name);
  });
}

function readValue(token: Token, next: () => Token): PlistValue {
  if (token.kind === "text") {
    throw new Error(`text ${JSON.stringify(token.text)} where a value goes`);
  }
  if (token.attrs.trim() !== "") throw new Error(`<${token.name}> cannot have attributes`);
  if (token.kind === "empty") {
    switch (token.name) {
      case "true":
        return true;
      case "false":
        return false;
      case "string":
        return "";
      case "dict":
        return {};
      case "array":
        return [];
      default:
        throw new Error(`<${token.name}/> is not a plist value`);
    }
  }
  if (token.kind !== "open") throw new Error(`${describe(token)} where a value goes`);
  switch (token.name) {
    case "dict":
      return readDict(next);
    case "array": {
      const items: PlistValue[] = [];
      for (let t = next(); !(t.kind === "close" && t.name === "array"); t = next()) {
        items.push(readValue(t, next));
      }
      return items;
    }
    case "string":
    case "integer":
    case "real":
    case "date":
    case "data":
      return scalar(token.name, readText(token.name, next));
    default:
      throw new Error(`<${token.name}> is not a plist value`);
  }
}

function readDict(next: () => Token): { [key: string]: PlistValue } {
  const dict: { [key: string]: PlistValue } = {};
  for (let t = next(); !(t.kind === "close" && t.name === "dict"); t = next()) {
    if (t.kind !== "open" || t.name !== "key" || t.attrs.trim() !== "") {
      throw new Error(`expected <key> in a dict, found ${describe(t)}`);
    }
    const key = readText("key", next);
    if (Object.hasOwn(dict, key)) throw new Error(`key ${key} twice in one dict`);
    const value = next();
    if (value.kind === "close") throw new Error(`key ${key} has no value`);
    dict[key] = readValue(value, next);
  }
  return dict;
}

/** The text of a scalar element up to its closing tag (none: empty). */
function readText(name: string, next: () => Token): string {
  let t = next();
  let text = "";
  if (t.kind === "text") {
    text = t.text;
    t = next();
  }
  if (t.kind !== "close" || t.name !== name) {
    throw new Error(`expected </${name}>, found ${describe(t)}`);
  }
  return text;
}

function scalar(name: string, text: string): PlistValue {
  switch (name) {
    case "integer":
      if (!/^[+-]?\d+$/.test(text.trim())) throw new Error(`not an integer: ${text}`);
      return Number(text);
    case "real":
      if (Number.isNaN(Number(text))) throw new Error(`not a real: ${text}`);
      return Number(text);
    case "date":
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(text)) throw new Error(`not a date: ${text}`);
      return new Date(text);
    case "data":
      return Uint8Array.from(atob(text.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    default:
      return text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);|&/g, (all, name: string | undefined) => {
    if (name === undefined) throw new Error(`a bare & in ${JSON.stringify(text)}`);
    if (name.startsWith("#x")) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number(name.slice(1)));
    const char = ENTITIES[name];
    if (char === undefined) throw new Error(`unknown entity ${all}`);
    return char;
  });
}

function describe(token: Token | undefined): string {
  if (!token) return "the end";
  if (token.kind === "text") return `text ${JSON.stringify(token.text.slice(0, 30))}`;
  return token.kind === "close"
    ? `</${token.name}>`
    : `<${token.name}${token.attrs}${token.kind === "empty" ? "/" : ""}>`;
}
