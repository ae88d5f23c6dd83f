import { assertEquals, assertThrows } from "../assert.ts";
import { checkHtml } from "./html_check.ts";

const ok = (body: string) =>
  `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`;

Deno.test("the HTML checker accepts a well-formed page and lists its elements", () => {
  const elements = checkHtml(ok('<p class="a">x &amp; y<br></p><svg><rect x="1"></rect></svg>'));
  assertEquals(elements.map((e) => e.name), [
    "html",
    "head",
    "meta",
    "title",
    "body",
    "p",
    "br",
    "svg",
    "rect",
  ]);
});

Deno.test("the HTML checker refuses what a report must never contain", () => {
  assertThrows(() => checkHtml(ok("<p><b>x</p></b>")), Error, "closes");
  assertThrows(() => checkHtml(ok("<p>x")), Error, "closes");
  assertThrows(() => checkHtml(ok("<p>a < b</p>")), Error, "malformed tag");
  assertThrows(() => checkHtml(ok("<p>a & b</p>")), Error, "unescaped &");
  assertThrows(() => checkHtml(ok("<script>1</script>")), Error, "script");
  assertThrows(() => checkHtml(ok('<img src="http://x/y.png">')), Error, "external resource");
  assertThrows(() => checkHtml("<html></html>"), Error, "DOCTYPE");
});
