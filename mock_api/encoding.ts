/**
 * Datasette's tilde encoding: percent-encoding with `~` in place of `%` (so a value survives
 * proxies that decode `%2F`), space as `+`, and only `A-Z a-z 0-9 _ -` left bare. Table names
 * in URLs and the parts of `_next` tokens and row keys use it.
 * @module
 */

const SAFE = /^[A-Za-z0-9_-]$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Tilde-encodes `text` (`"Order Details"` → `"Order+Details"`, `"a/b"` → `"a~2Fb"`).
 *
 * @example
 * ```ts
 * tildeEncode("hello/world"); // "hello~2Fworld"
 * ```
 */
export function tildeEncode(text: string): string {
  let out = "";
  for (const char of text) {
    if (SAFE.test(char)) {
      out += char;
    } else if (char === " ") {
      out += "+";
    } else {
      for (const byte of encoder.encode(char)) {
        out += `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
    }
  }
  return out;
}

/**
 * Decodes a tilde-encoded string (`~20` and `+` are spaces; `%` stays as it is). Throws a
 * `URIError` naming the text when a `~` is not followed by two hex digits or the bytes are not
 * UTF-8.
 */
export function tildeDecode(text: string): string {
  if (!text.includes("~") && !text.includes("+")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "~") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        throw new URIError(`bad tilde escape in ${JSON.stringify(text)}: use ~ and two hex digits`);
      }
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (char === "+") {
      bytes.push(0x20);
    } else {
      const code = text.codePointAt(i)!;
      if (code > 0xffff) i++;
      bytes.push(...encoder.encode(String.fromCodePoint(code)));
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new URIError(`tilde escapes in ${JSON.stringify(text)} are not UTF-8`);
  }
}
