import { isSensitiveParam, redactText, redactUrl } from "../../lib/core/redact.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("redactUrl masks api_key and keeps every other parameter byte for byte", () => {
  assertEquals(
    redactUrl("http://127.0.0.1:9000/northwind/Orders.json?api_key=abc123&_size=10&q=a%20b"),
    "http://127.0.0.1:9000/northwind/Orders.json?api_key=***&_size=10&q=a%20b",
  );
});

Deno.test("redactUrl masks tokens, passwords and client secrets in any spelling", () => {
  const url = "https://api.example.com/x?access_token=t1&apiKey=k2&PASSWORD=p3&client-secret=s4" +
    "&refresh_token=r5&key=k6&sig=z7";
  assertEquals(
    redactUrl(url),
    "https://api.example.com/x?access_token=***&apiKey=***&PASSWORD=***&client-secret=***" +
      "&refresh_token=***&key=***&sig=***",
  );
});

Deno.test("redactUrl keeps pagination tokens, which are state and not credentials", () => {
  const url = "http://h/2/users/1/posts?pagination_token=abc&next_token=def&_next=10447";
  assertEquals(redactUrl(url), url);
});

Deno.test("redactUrl masks user info in the authority", () => {
  assertEquals(redactUrl("https://user:pw@example.com/a?b=1"), "https://***:***@example.com/a?b=1");
});

Deno.test("redactUrl masks a given secret wherever it appears, encoded or not", () => {
  assertEquals(
    redactUrl("http://h/data/my%20secret/x?f=my+secret", ["my secret"]),
    "http://h/data/***/x?f=***",
  );
});

Deno.test("redactUrl redacts a string that is not a URL as text", () => {
  assertEquals(redactUrl("/path?token=abc", ["zzzz"]), "/path?token=***");
});

Deno.test("redactText masks given secrets, bearer values and JSON credential fields", () => {
  const text = 'sent Authorization: Bearer eyJhbGciOi.abc.def for {"access_token":"xyz","n":1}' +
    " with password hunter2-long";
  const out = redactText(text, ["hunter2-long"]);
  assertEquals(
    out,
    'sent Authorization: Bearer *** for {"access_token":"***","n":1} with password ***',
  );
});

Deno.test("redactText ignores secrets too short to be credentials", () => {
  assertEquals(redactText("a 1 b", ["1"]), "a 1 b");
});

Deno.test("isSensitiveParam tells credentials from ordinary parameters", () => {
  for (const name of ["api_key", "token", "X-Api-Key", "clientSecret", "session_id", "auth"]) {
    assert(isSensitiveParam(name), name);
  }
  for (const name of ["_size", "_next", "sort_key", "page", "keyword", "next_token", "cursor"]) {
    assert(!isSensitiveParam(name), name);
  }
});
