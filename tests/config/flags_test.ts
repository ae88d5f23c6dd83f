import { configFromFlags } from "../../lib/config/flags.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const ISSUE_FLAGS = {
  url: "http://127.0.0.1:9000/northwind/Orders.json?_size=1000",
  dataPath: "rows",
  pagination: "cursor",
  nextPath: "next",
  nextParam: "_next",
  primaryKey: ["OrderID"],
  out: "out",
  bearerEnv: "API_TOKEN",
};

Deno.test("flags: the issue's example builds a one-asset cursor config", () => {
  const loaded = configFromFlags(ISSUE_FLAGS, { env: { API_TOKEN: "super-secret-token" } });
  const { config } = loaded;
  assertEquals(config.base_url, "http://127.0.0.1:9000");
  assertEquals(config.out, "out");
  assertEquals(config.auth, { type: "bearer", token: "super-secret-token" });
  assertEquals(config.assets.length, 1);
  const asset = config.assets[0];
  assertEquals(asset.name, "Orders");
  assertEquals(asset.path, "/northwind/Orders.json");
  assertEquals(asset.params, { _size: "1000" });
  assertEquals(asset.pagination, {
    type: "cursor",
    param: "_next",
    response_path: "next",
    limit_param: "limit",
  });
  assertEquals(asset.data_path, "rows");
  assertEquals(asset.primary_key, ["OrderID"]);
  assertEquals(loaded.authAlias, "bearer:API_TOKEN");
  assertEquals(loaded.source, "flags");
  assertEquals(loaded.secretValues, ["super-secret-token"]);
});

Deno.test("flags: the config hash does not depend on the secret's value", () => {
  const a = configFromFlags(ISSUE_FLAGS, { env: { API_TOKEN: "one" } });
  const b = configFromFlags(ISSUE_FLAGS, { env: { API_TOKEN: "two" } });
  assertEquals(a.sha256, b.sha256);
  assertEquals(a.sha256.length, 64);
});

Deno.test("flags: the asset is named from the decoded last path segment", () => {
  const { config } = configFromFlags({
    url: "http://127.0.0.1:9000/northwind/Order%20Details.json",
    dataPath: "rows",
  }, { env: {} });
  assertEquals(config.assets[0].name, "Order Details");
  assertEquals(config.assets[0].pagination, { type: "none" });
  assertEquals(config.auth, { type: "none" });
});

Deno.test("flags: next-path and next-param fill the fields of the chosen pagination type", () => {
  const env = {};
  const url = "http://127.0.0.1:9000/2/users/1/posts";
  const timeline = configFromFlags({
    url,
    dataPath: "data",
    pagination: "timeline",
    nextPath: "meta.next_token",
  }, { env });
  assertEquals(
    timeline.config.assets[0].pagination.type === "timeline" &&
      timeline.config.assets[0].pagination.token_path,
    "meta.next_token",
  );
  const hal = configFromFlags({
    url,
    dataPath: "data",
    pagination: "body_link",
    nextPath: "links.next",
  }, { env });
  assertEquals(
    hal.config.assets[0].pagination.type === "body_link" &&
      hal.config.assets[0].pagination.response_path,
    "links.next",
  );
});

Deno.test("flags: problems are reported by flag name", () => {
  const error = assertThrows(
    () =>
      configFromFlags({
        url: "http://127.0.0.1:9000/x.json",
        dataPath: "rows",
        pagination: "cursor",
      }, { env: {} }),
    ConfigError,
  );
  assertEquals(error.issues, [{ path: "--next-param", message: "missing; expected text" }]);
  assertEquals(error.message.split("\n")[0], "invalid flags: 1 problem");
});

Deno.test("flags: an unknown pagination type lists the accepted ones under --pagination", () => {
  const error = assertThrows(
    () =>
      configFromFlags({
        url: "http://127.0.0.1:9000/x.json",
        dataPath: "rows",
        pagination: "cursr",
      }, { env: {} }),
    ConfigError,
  );
  assertEquals(error.issues, [{
    path: "--pagination",
    message: 'expected one of cursor, offset, page, link, body_link, timeline, none; got "cursr"',
  }]);
});

Deno.test("flags: a missing URL and data path, a flag the pagination does not use, are all listed", () => {
  const error = assertThrows(
    () => configFromFlags({ pagination: "link", nextPath: "next" }, { env: {} }),
    ConfigError,
  );
  assertEquals(error.issues, [
    { path: "--url", message: "missing; give the endpoint's full URL" },
    {
      path: "--data-path",
      message: 'missing; say where the records are ("rows", "data", "" for a bare array)',
    },
    { path: "--next-path", message: "not used by --pagination link; remove it" },
  ]);
});

Deno.test("flags: an unset --bearer-env variable is named", () => {
  const error = assertThrows(() => configFromFlags(ISSUE_FLAGS, { env: {} }), ConfigError);
  assertEquals(error.issues, [{
    path: "--bearer-env",
    message: "environment variable API_TOKEN is not set; export it or write ${API_TOKEN:-default}",
  }]);
});

Deno.test("flags: a URL that is not http(s) is refused", () => {
  const error = assertThrows(
    () => configFromFlags({ url: "ftp://x/y", dataPath: "rows" }, { env: {} }),
    ConfigError,
  );
  assertEquals(error.issues[0].path, "--url");
});
