/**
 * A small HTML5 well-formedness checker for the report tests: doctype, balanced and properly
 * nested tags (void elements excepted), well-formed attributes, no script and no external
 * resource. Returns every element with its attributes so tests can count them.
 * @module
 */

const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);

/** An element found in the document. */
export interface Element {
  name: string;
  attributes: Record<string, string>;
}

/** Parses `html`, throwing an Error that says where it is not well-formed. */
export function checkHtml(html: string): Element[] {
  if (!/^<!DOCTYPE html>\s*<html[\s>]/i.test(html)) throw new Error("missing <!DOCTYPE html>");
  const elements: Element[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>\/]+(?:="[^"]*"|='[^']*')?)*)\s*(\/?)>/y;
  let i = html.indexOf("<html");
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    const text = html.slice(i, lt);
    if (/[<>]/.test(text.replace(/&[a-z]+;|&#\d+;/g, ""))) {
      throw new Error(`stray angle bracket near ${JSON.stringify(text.slice(0, 60))}`);
    }
    if (/&(?![a-z]+;|#\d+;)/.test(text)) {
      throw new Error(`unescaped & near ${JSON.stringify(text.slice(0, 60))}`);
    }
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt);
      if (end < 0) throw new Error("unterminated comment");
      i = end + 3;
      continue;
    }
    tag.lastIndex = lt;
    const m = tag.exec(html);
    if (!m) throw new Error(`malformed tag at ${lt}: ${JSON.stringify(html.slice(lt, lt + 80))}`);
    const [, closing, rawName, attrText, selfClosing] = m;
    const name = rawName.toLowerCase();
    i = tag.lastIndex;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of attrText.matchAll(/([^\s=]+)(?:="([^"]*)"|='([^']*)')?/g)) {
      if (a[1] in attributes) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attributes[a[1]] = a[2] ?? a[3] ?? "";
    }
    elements.push({ name, attributes });
    if (name === "script") throw new Error("the report must not contain a script");
    for (const key of ["src", "href"]) {
      if (key in attributes && !attributes[key].startsWith("#")) {
        throw new Error(`external resource ${key}="${attributes[key]}" on <${name}>`);
      }
    }
    if (name === "style") {
      const end = html.indexOf("</style>", i);
      if (end < 0) throw new Error("unterminated <style>");
      if (/url\((?!#)|@import/.test(html.slice(i, end))) throw new Error("external CSS resource");
      i = end + "</style>".length;
      continue;
    }
    if (!VOID.has(name) && !selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(" > ")}`);
  return elements;
}
