import { assertEquals, assertThrows } from "../assert.ts";
import { tildeDecode, tildeEncode } from "../../mock_api/encoding.ts";

Deno.test("tilde encoding keeps A-Z a-z 0-9 _ - bare, spaces as +, the rest as ~XX", () => {
  assertEquals(tildeEncode("Order Details"), "Order+Details");
  assertEquals(tildeEncode("a/b,c.d~e"), "a~2Fb~2Cc~2Ed~7Ee");
  assertEquals(tildeEncode("Soße"), "So~C3~9Fe");
});

Deno.test("tilde decoding reverses encoding and reads ~20 and + as spaces, % as itself", () => {
  for (const text of ["Order Details", "a/b,c.d~e", "Soße", "100%", "😀 x"]) {
    assertEquals(tildeDecode(tildeEncode(text)), text);
  }
  assertEquals(tildeDecode("Order~20Details"), "Order Details");
  assertEquals(tildeDecode("50%25"), "50%25");
});

Deno.test("a ~ without two hex digits, or bytes that are not UTF-8, is a URIError", () => {
  assertThrows(() => tildeDecode("a~zz"), URIError, "bad tilde escape");
  assertThrows(() => tildeDecode("a~F"), URIError);
  assertThrows(() => tildeDecode("~FF"), URIError, "not UTF-8");
});
