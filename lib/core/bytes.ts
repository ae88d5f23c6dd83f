/**
 * Byte helpers shared by the HTTP layer, the manifest and the column encoders.
 * @module
 */

/**
 * The parts joined into one buffer (a single part is returned as is, not copied).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The UTF-8 length of a text as `TextEncoder` writes it: a lone surrogate becomes U+FFFD, three
 * bytes. Texts joined before one `encodeInto` may take fewer bytes than their lengths add up to
 * (a value ending in a lone high surrogate pairs with the next one's lone low surrogate), which
 * is how a caller tells that it must encode them one by one.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./bytes.ts";
 * utf8Length("Straße"); // 7
 * utf8Length("😀"); // 4
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
