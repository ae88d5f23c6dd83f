import { z } from "zod";
import { describeValue, formatIssues, formatPath } from "../../lib/config/errors.ts";
import { assertEquals } from "../assert.ts";

Deno.test("formatPath writes indexes in brackets and quotes keys that are not identifiers", () => {
  assertEquals(formatPath(["assets", 1, "pagination", "type"]), "assets[1].pagination.type");
  assertEquals(formatPath(["assets", 0, "params", "Order Date"]), 'assets[0].params["Order Date"]');
  assertEquals(formatPath([]), "");
});

Deno.test("describeValue quotes text, names containers and shortens long text", () => {
  assertEquals(describeValue("x"), '"x"');
  assertEquals(describeValue([1]), "a list");
  assertEquals(describeValue({}), "a mapping");
  assertEquals(describeValue(undefined), "nothing");
  assertEquals(describeValue("a".repeat(100)).length, 62);
});

Deno.test("a wrongly typed auth secret is reported without echoing its value", () => {
  const schema = z.strictObject({ auth: z.strictObject({ token: z.number() }) });
  const input = { auth: { token: "super-secret-token" } };
  const issues = formatIssues(schema.safeParse(input).error!.issues, input, { schema });
  assertEquals(issues, [{
    path: "auth.token",
    message: "expected a number; got a value (hidden: it is a secret)",
  }]);
});

Deno.test("an unknown key far from every known key lists the accepted keys", () => {
  const schema = z.strictObject({ alpha: z.string().optional(), beta: z.string().optional() });
  const input = { zzzzzz: 1 };
  assertEquals(formatIssues(schema.safeParse(input).error!.issues, input, { schema }), [
    { path: "zzzzzz", message: "unknown field; expected one of alpha, beta" },
  ]);
});

Deno.test("an unknown key inside a discriminated union suggests from the matching branch", () => {
  const schema = z.strictObject({
    p: z.discriminatedUnion("type", [
      z.strictObject({ type: z.literal("a"), total_path: z.string().optional() }),
      z.strictObject({ type: z.literal("b"), rel: z.string().optional() }),
    ]),
  });
  const input = { p: { type: "a", totl_path: "count" } };
  assertEquals(formatIssues(schema.safeParse(input).error!.issues, input, { schema }), [
    { path: "p.totl_path", message: 'unknown field; did you mean "total_path"?' },
  ]);
});
