/**
 * A user adds a pagination kind Tidemark does not know, names it in a config, and harvests with
 * it: the built-ins go through the same registry.
 */
import { z } from "zod";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { type Paginator, paginatorKinds, registerPaginator } from "../../lib/paginate/mod.ts";
import type { StandardSchemaV1 } from "../../lib/core/standard_schema.ts";
import { assertEquals, assertThrows } from "../assert.ts";
import {
  BASE_URL,
  parquetKeys,
  run,
  sorted,
  sourceKeys,
  TOKEN,
  withMockRun,
} from "../harvest/fixture.ts";

/** A token in the body's `next`, sent back in a parameter the config names: a dozen lines. */
const skipToken = {
  schema: z.strictObject({
    type: z.literal("skip_token"),
    param: z.string().min(1),
    token_path: z.string().default("next"),
  }),
  create: (config: { param: string; token_path: string }): Paginator => ({
    type: "skip_token",
    endStatuses: [],
    first: (base) => ({ ...base, page: 1, cursor: null }),
    next(prev, response) {
      const token = (response.body as Record<string, unknown>)[config.token_path];
      if (typeof token !== "string" || token === "") return "done";
      return {
        url: prev.url,
        params: { ...prev.params, [config.param]: token },
        page: prev.page + 1,
        cursor: token,
      };
    },
    resume: (base, from) => ({
      url: base.url,
      params: { ...base.params, [config.param]: from.cursor },
      page: from.page + 1,
      cursor: from.cursor,
    }),
  }),
};

const yaml = (pagination: string) =>
  `name: custom
base_url: ${BASE_URL}
auth: { type: bearer, token: \${API_TOKEN} }
retry: { max_attempts: 3, base_ms: 0, cap_ms: 0 }
assets:
  - name: Orders
    path: /northwind/Orders.json
    params: { _size: 150 }
    pagination: ${pagination}
    data_path: rows
    primary_key: [OrderID]
`;

Deno.test("a registered pagination kind is named in a config and harvests every row", async () => {
  const unregister = registerPaginator("skip_token", skipToken);
  try {
    assertEquals(paginatorKinds().slice(0, 7), [
      "cursor",
      "offset",
      "page",
      "link",
      "body_link",
      "timeline",
      "none",
    ], "the built-ins are registered the same way, first");
    const loaded = parseConfig(yaml("{ type: skip_token, param: _next }"), {
      env: { API_TOKEN: TOKEN },
    });
    await withMockRun(async (fixture, out) => {
      const result = await run(fixture, loaded, out);
      assertEquals(result.exitCode, 0);
      assertEquals(result.assets[0].pages, 6, "830 orders in pages of 150");
      assertEquals(
        sorted(await parquetKeys(out, "Orders", ["OrderID"])),
        sourceKeys(fixture.db, "Orders", ["OrderID"]),
      );
    });
  } finally {
    unregister();
  }
});

Deno.test("a registered kind's options are checked by its schema, at the field's path", () => {
  const unregister = registerPaginator("skip_token", skipToken);
  try {
    const error = assertThrows(
      () => parseConfig(yaml("{ type: skip_token, parm: _next }"), { env: { API_TOKEN: TOKEN } }),
      ConfigError,
    );
    assertEquals(error.issues.map((i) => i.path).sort(), [
      "assets[0].pagination.param",
      "assets[0].pagination.parm",
    ]);
  } finally {
    unregister();
  }
});

Deno.test("an unknown kind lists the built-in and registered kinds", () => {
  const unregister = registerPaginator("skip_token", skipToken);
  try {
    const error = assertThrows(
      () => parseConfig(yaml("{ type: skip_tokn }"), { env: { API_TOKEN: TOKEN } }),
      ConfigError,
    );
    assertEquals(error.issues, [{
      path: "assets[0].pagination.type",
      message:
        'expected one of cursor, offset, page, link, body_link, timeline, none, skip_token; got "skip_tokn"',
    }]);
  } finally {
    unregister();
  }
});

Deno.test("a kind's name is checked, and a built-in cannot be replaced", () => {
  assertThrows(() => registerPaginator("cursor", skipToken), TypeError, "already registered");
  assertThrows(() => registerPaginator("Skip-Token", skipToken), TypeError, "lower-case");
});

/** A kind's schema written against the Standard Schema interface alone (any library's, or none). */
function standardSchema(
  validate: (value: unknown) => unknown,
): StandardSchemaV1<unknown, { type: string; param: string }> {
  return {
    "~standard": {
      version: 1,
      vendor: "hand-written",
      validate: validate as StandardSchemaV1<unknown, { type: string; param: string }>[
        "~standard"
      ]["validate"],
    },
  };
}

Deno.test("a kind's schema may be any Standard Schema, not only zod", () => {
  const unregister = registerPaginator("plain_token", {
    schema: standardSchema((value) => {
      const v = value as Record<string, unknown>;
      return typeof v.param === "string"
        ? { value: { type: "plain_token", param: v.param } }
        : { issues: [{ message: "expected a parameter name", path: [{ key: "param" }] }] };
    }),
    create: skipToken.create as never,
  });
  try {
    const ok = parseConfig(yaml("{ type: plain_token, param: _next }"), {
      env: { API_TOKEN: TOKEN },
    });
    assertEquals(ok.config.assets[0].pagination, {
      type: "custom",
      kind: "plain_token",
      options: { param: "_next" },
    });
    const error = assertThrows(
      () => parseConfig(yaml("{ type: plain_token }"), { env: { API_TOKEN: TOKEN } }),
      ConfigError,
    );
    assertEquals(error.issues, [{
      path: "assets[0].pagination.param",
      message: "expected a parameter name",
    }]);
  } finally {
    unregister();
  }
});

Deno.test("a kind whose schema answers asynchronously is refused with a message saying so", () => {
  const unregister = registerPaginator("async_token", {
    schema: standardSchema(() => Promise.resolve({ value: { type: "async_token", param: "p" } })),
    create: skipToken.create as never,
  });
  try {
    const error = assertThrows(
      () => parseConfig(yaml("{ type: async_token }"), { env: { API_TOKEN: TOKEN } }),
      ConfigError,
    );
    assertEquals(error.issues.map((i) => i.message), [
      'the schema of kind "async_token" is asynchronous; register a synchronous one',
    ]);
  } finally {
    unregister();
  }
});
