import { ConfigError } from "../../lib/core/errors.ts";
import { parseDestination } from "../../lib/object_store/destination.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";

const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRET";
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE1234", AWS_SECRET_ACCESS_KEY: SECRET };

function s3(text: string, env: Record<string, string | undefined> = {}) {
  const destination = parseDestination(text, { env: { ...CREDENTIALS, ...env } });
  if (destination.kind !== "s3") {
    throw new Error(`expected an s3 destination, got ${destination.kind}`);
  }
  return destination;
}

Deno.test("s3://bucket/prefix with S3_ENDPOINT: path-style, default region, trimmed prefix", () => {
  const d = s3("s3://lake/raw/northwind/", { S3_ENDPOINT: "http://127.0.0.1:4568/" });
  assertEquals(
    [d.url, d.bucket, d.prefix, d.endpoint, d.region, d.forcePathStyle],
    [
      "s3://lake/raw/northwind",
      "lake",
      "raw/northwind",
      "http://127.0.0.1:4568",
      "us-east-1",
      true,
    ],
  );
  assertEquals(d.credentials(), { accessKeyId: "AKIAEXAMPLE1234", secretAccessKey: SECRET });
});

Deno.test("without an endpoint the destination is AWS: virtual-hosted style, region from AWS_REGION", () => {
  const d = s3("s3://lake", { AWS_REGION: "eu-west-3" });
  assertEquals([d.endpoint, d.region, d.forcePathStyle, d.prefix], [
    undefined,
    "eu-west-3",
    false,
    "",
  ]);
});

Deno.test("AWS_ENDPOINT_URL is read when S3_ENDPOINT is absent, and S3_ENDPOINT wins when both are set", () => {
  assertEquals(
    s3("s3://lake", { AWS_ENDPOINT_URL: "http://127.0.0.1:9" }).endpoint,
    "http://127.0.0.1:9",
  );
  assertEquals(
    s3("s3://lake", { AWS_ENDPOINT_URL: "http://127.0.0.1:9", S3_ENDPOINT: "http://127.0.0.1:8" })
      .endpoint,
    "http://127.0.0.1:8",
  );
});

Deno.test("AWS_SESSION_TOKEN is passed with the credentials and masked like the secret", () => {
  const d = s3("s3://lake", { AWS_SESSION_TOKEN: "FwoGZXIvYXdzEJr-session-token" });
  assertEquals(d.credentials().sessionToken, "FwoGZXIvYXdzEJr-session-token");
  assertEquals(d.secrets(), [SECRET, "FwoGZXIvYXdzEJr-session-token"]);
});

Deno.test("logging or serialising a destination never shows the secret key", () => {
  const d = s3("s3://lake/raw", { S3_ENDPOINT: "http://127.0.0.1:4568" });
  assert(!JSON.stringify(d).includes(SECRET));
  assert(!Deno.inspect(d, { depth: 10 }).includes(SECRET));
});

Deno.test("a bucket name shorter than 3 characters is a ConfigError at output.destination", () => {
  const error = assertThrows(
    () => s3("s3://ab/raw"),
    ConfigError,
    `bucket name "ab" has 2 characters`,
  );
  assertEquals(error.issues[0].path, "output.destination");
  assertStringIncludes(error.message, "3 to 63");
});

Deno.test("a bucket name with upper-case letters or underscores is rejected with the naming rule", () => {
  assertThrows(() => s3("s3://My_Lake/raw"), ConfigError, "lower-case letters, digits");
  assertThrows(() => s3("s3://-lake"), ConfigError, "starting and ending with a letter or digit");
});

Deno.test("missing credentials name the variable that is not set", () => {
  const error = assertThrows(
    () => parseDestination("s3://lake", { env: { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE1234" } }),
    ConfigError,
    "AWS_SECRET_ACCESS_KEY is not set",
  );
  assertStringIncludes(error.message, "s3://lake");
  assertThrows(
    () => parseDestination("s3://lake", { env: {} }),
    ConfigError,
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
  );
});

Deno.test("credentials written into the destination URL are refused without echoing them", () => {
  const error = assertThrows(
    () => s3(`s3://AKIAEXAMPLE1234:${SECRET}@lake/raw`),
    ConfigError,
    "credentials do not belong",
  );
  assert(!error.message.includes(SECRET));
});

Deno.test("an endpoint that is not an http(s) URL names the variable and an example", () => {
  assertThrows(
    () => s3("s3://lake", { AWS_ENDPOINT_URL: "127.0.0.1:4568" }),
    ConfigError,
    "AWS_ENDPOINT_URL=",
  );
  assertThrows(
    () => s3("s3://lake", { S3_ENDPOINT: "ftp://127.0.0.1" }),
    ConfigError,
    "set it like http://127.0.0.1:4568",
  );
});

Deno.test("a prefix with . or .. segments is refused", () => {
  assertThrows(() => s3("s3://lake/raw/../etc"), ConfigError, `"." or ".." segments`);
});

Deno.test("file:///path and plain folders are local destinations with absolute roots", () => {
  assertEquals(parseDestination("file:///tmp/lake"), {
    kind: "local",
    url: "file:///tmp/lake",
    root: "/tmp/lake",
  });
  assertEquals(parseDestination("uploads/lake", { cwd: "/srv/tidemark" }), {
    kind: "local",
    url: "file:///srv/tidemark/uploads/lake",
    root: "/srv/tidemark/uploads/lake",
  });
});

Deno.test("an unsupported scheme is a ConfigError listing the supported forms", () => {
  assertThrows(() => parseDestination("gs://lake/raw"), ConfigError, `unsupported scheme "gs://"`);
});
