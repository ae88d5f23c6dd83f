import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfigError, ObjectStoreError, VerifyError } from "../../lib/core/errors.ts";
import { openObjectStore } from "../../lib/object_store/mod.ts";
import type { ObjectStoreOptions } from "../../lib/object_store/store.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  closedPort,
  type FaultProxyOptions,
  patternFile,
  RecordingClock,
  s3ErrorResponse,
  startFaultProxy,
  startS3rver,
  withHeaders,
} from "./s3_fixture.ts";

const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRET";
const MIB = 1024 * 1024;
const LOAD = "load_date=2026-11-23/load_time=101500";

function envFor(endpoint: string, accessKeyId = "S3RVER") {
  return { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: SECRET };
}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

function readerClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    maxAttempts: 1,
  });
}

async function readObject(endpoint: string, bucket: string, key: string): Promise<Uint8Array> {
  const client = readerClient(endpoint);
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await object.Body!.transformToByteArray();
  } finally {
    client.destroy();
  }
}

/** s3rver behind a fault proxy, a temp folder, and a store opened on the proxy. */
async function withStore(
  test: (context: {
    store: Awaited<ReturnType<typeof openObjectStore>>;
    dir: string;
    endpoint: string;
    seen: ReturnType<typeof startFaultProxy>["seen"];
    clock: RecordingClock;
  }) => Promise<void>,
  options: {
    proxy?: FaultProxyOptions;
    store?: ObjectStoreOptions;
    destination?: string;
    buckets?: string[];
    accessKeyId?: string;
  } = {},
): Promise<void> {
  await using s3 = await startS3rver(options.buckets ?? ["lake"]);
  await using proxy = startFaultProxy(s3.endpoint, options.proxy);
  const dir = await Deno.makeTempDir({ prefix: "tidemark-upload-" });
  const clock = new RecordingClock();
  try {
    await using store = await openObjectStore(options.destination ?? "s3://lake/raw/northwind", {
      env: envFor(proxy.endpoint, options.accessKeyId),
      clock,
      ...options.store,
    });
    await test({ store, dir, endpoint: s3.endpoint, seen: proxy.seen, clock });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("preflight passes for an existing bucket and writes nothing", async () => {
  await withStore(async ({ store, seen }) => {
    await store.preflight();
    assertEquals(seen.map((r) => r.method), ["GET"]);
    assertEquals(await store.list(), []);
  });
});

Deno.test("a small file goes up in one PUT under <prefix>/<asset>/load_date=/load_time=/<file>, ETag = its MD5", async () => {
  await withStore(async ({ store, dir, endpoint, seen }) => {
    const path = await patternFile(dir, "part-r1-00001.parquet", 70_000);
    const bytes = await Deno.readFile(path);
    const object = await store.upload(path, "Orders/ShipCountry=USA/part-r1-00001.parquet");
    const key = `raw/northwind/Orders/${LOAD}/ShipCountry=USA/part-r1-00001.parquet`;
    assertEquals(object, {
      url: `s3://lake/${key}`,
      key,
      etag: md5(bytes),
      size: 70_000,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      parts: 1,
    });
    assertEquals(seen.filter((r) => r.method === "PUT").length, 1);
    assertEquals(await readObject(endpoint, "lake", key), bytes);
  });
});

Deno.test("a file at the multipart threshold goes up in parts of the part size and round-trips", async () => {
  await withStore(async ({ store, dir, endpoint, seen }) => {
    const path = await patternFile(dir, "big.csv", 11 * MIB + 123);
    const object = await store.upload(path, "Orders/big.csv");
    assertEquals(object.parts, 3);
    assertEquals(object.size, 11 * MIB + 123);
    const partPuts = seen.filter((r) => r.method === "PUT" && r.query.has("partNumber"));
    assertEquals(partPuts.map((r) => r.query.get("partNumber")).sort(), ["1", "2", "3"]);
    assertEquals(seen.filter((r) => r.method === "POST" && r.query.has("uploads")).length, 1);
    assertEquals(await readObject(endpoint, "lake", object.key), await Deno.readFile(path));
  }, { store: { partSizeBytes: 5 * MIB, multipartThresholdBytes: 5 * MIB } });
});

Deno.test("a multipart ETag in S3's md5-of-md5s-N form is computed locally and accepted", async () => {
  const size = 10 * MIB + 7;
  // What AWS S3 answers for 3 parts of 5 MiB (s3rver answers the whole-file MD5 instead).
  let awsEtag = "";
  await withStore(async ({ store, dir }) => {
    const path = await patternFile(dir, "big.parquet", size);
    const bytes = await Deno.readFile(path);
    const partDigests = [0, 1, 2].map((i) =>
      createHash("md5").update(bytes.subarray(i * 5 * MIB, (i + 1) * 5 * MIB)).digest()
    );
    const combined = createHash("md5");
    for (const digest of partDigests) combined.update(digest);
    awsEtag = `${combined.digest("hex")}-3`;
    const object = await store.upload(path, "Orders/big.parquet");
    assertEquals(object.etag, awsEtag);
    assertEquals(object.parts, 3);
  }, {
    store: { partSizeBytes: 5 * MIB, multipartThresholdBytes: 5 * MIB },
    proxy: {
      after: (request, response) =>
        request.method === "HEAD" ? withHeaders(response, { etag: `"${awsEtag}"` }) : response,
    },
  });
});

Deno.test("a multipart ETag that does not match the parts is a VerifyError", async () => {
  await withStore(async ({ store, dir }) => {
    const path = await patternFile(dir, "big.parquet", 10 * MIB + 7);
    const error = await assertRejects(
      () => store.upload(path, "Orders/big.parquet"),
      VerifyError,
      "ETag",
    );
    assertStringIncludes(error.message, "3 parts");
  }, {
    store: { partSizeBytes: 5 * MIB, multipartThresholdBytes: 5 * MIB },
    proxy: {
      after: (request, response) =>
        request.method === "HEAD"
          ? withHeaders(response, { etag: `"0123456789abcdef0123456789abcdef-3"` })
          : response,
    },
  });
});

Deno.test("a HeadObject ETag that differs from the file's MD5 is a VerifyError and the object is removed", async () => {
  await withStore(async ({ store, dir }) => {
    const path = await patternFile(dir, "part.jsonl", 4096);
    const error = await assertRejects(
      () => store.upload(path, "Orders/part.jsonl"),
      VerifyError,
      `s3://lake/raw/northwind/Orders/${LOAD}/part.jsonl`,
    );
    assertStringIncludes(error.message, "the object was removed");
    assertEquals(await store.list(), []);
  }, {
    proxy: {
      after: (request, response) =>
        request.method === "HEAD"
          ? withHeaders(response, { etag: `"ffffffffffffffffffffffffffffffff"` })
          : response,
    },
  });
});

Deno.test("a HeadObject size that differs from the file's is a VerifyError naming both sizes", async () => {
  await withStore(async ({ store, dir }) => {
    const path = await patternFile(dir, "part.csv", 4096);
    const error = await assertRejects(() => store.upload(path, "Orders/part.csv"), VerifyError);
    assertStringIncludes(error.message, "size 4095 where the file has 4096");
  }, {
    proxy: {
      after: (request, response) =>
        request.method === "HEAD" ? withHeaders(response, { "content-length": "4095" }) : response,
    },
  });
});

Deno.test("a stored sha256 that differs from the file's is a VerifyError", async () => {
  await withStore(async ({ store, dir }) => {
    const path = await patternFile(dir, "part.csv", 1000);
    await assertRejects(() => store.upload(path, "Orders/part.csv"), VerifyError, "sha256");
  }, {
    proxy: {
      after: (request, response) =>
        request.method === "HEAD"
          ? withHeaders(response, { "x-amz-meta-sha256": "0".repeat(64) })
          : response,
    },
  });
});

Deno.test("list returns the objects under a prefix, sorted, and nothing outside the destination", async () => {
  await withStore(async ({ store, dir, endpoint }) => {
    const outside = readerClient(endpoint);
    try {
      await outside.send(
        new PutObjectCommand({ Bucket: "lake", Key: "raw/northwind-old/x.csv", Body: "x" }),
      );
    } finally {
      outside.destroy();
    }
    const a = await patternFile(dir, "a.csv", 10);
    const b = await patternFile(dir, "b.csv", 20);
    await store.upload(b, "Orders/b.csv");
    await store.upload(a, "Orders/a.csv");
    await store.upload(a, "Customers/a.csv");
    const orders = await store.list("Orders/");
    assertEquals(orders.map((o) => [o.key, o.size]), [
      [`raw/northwind/Orders/${LOAD}/a.csv`, 10],
      [`raw/northwind/Orders/${LOAD}/b.csv`, 20],
    ]);
    assertEquals(orders[0].url, `s3://lake/raw/northwind/Orders/${LOAD}/a.csv`);
    assertEquals(orders[0].etag, md5(await Deno.readFile(a)));
    assertEquals((await store.list()).map((o) => o.key), [
      `raw/northwind/Customers/${LOAD}/a.csv`,
      `raw/northwind/Orders/${LOAD}/a.csv`,
      `raw/northwind/Orders/${LOAD}/b.csv`,
    ]);
  });
});

Deno.test("keys take load_date/load_time from the injected clock, in UTC, and keep spaces in asset names", async () => {
  await using s3 = await startS3rver(["lake"]);
  const dir = await Deno.makeTempDir();
  try {
    const clock = new RecordingClock(Date.parse("2026-11-24T01:59:07+02:00"));
    await using store = await openObjectStore("s3://lake", { env: envFor(s3.endpoint), clock });
    const path = await patternFile(dir, "part.parquet", 100);
    const object = await store.upload(path, "Order Details/part.parquet");
    assertEquals(object.key, "Order Details/load_date=2026-11-23/load_time=235907/part.parquet");
    assertEquals((await store.list()).map((o) => o.key), [object.key]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unknown credentials fail preflight with a ConfigError naming the env vars, before any upload", async () => {
  await withStore(async ({ store, seen }) => {
    const error = await assertRejects(() => store.preflight(), ConfigError, "InvalidAccessKeyId");
    assertEquals(error.exitCode, 2);
    assertEquals(error.issues[0].path, "output.destination");
    assertStringIncludes(error.message, "credentials were rejected");
    assertStringIncludes(error.message, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    assertStringIncludes(error.message, "…-KEY");
    assertEquals(seen.map((r) => r.method), ["GET"]);
    assert(!error.message.includes(SECRET));
    assert(!Deno.inspect(error, { depth: 10 }).includes(SECRET));
    assert(!Deno.inspect(store, { depth: 10 }).includes(SECRET));
  }, { accessKeyId: "NOT-A-KNOWN-KEY" });
});

Deno.test("a missing bucket fails preflight naming the bucket and how to create it", async () => {
  await withStore(async ({ store }) => {
    const error = await assertRejects(() => store.preflight(), ConfigError, "NoSuchBucket");
    assertStringIncludes(error.message, `bucket "warehouse" does not exist`);
    assertStringIncludes(error.message, "aws s3 mb s3://warehouse");
    assert(!error.message.includes(SECRET));
  }, { destination: "s3://warehouse/raw" });
});

Deno.test("an unreachable endpoint is retried with the injected sleep, then fails naming S3_ENDPOINT", async () => {
  const clock = new RecordingClock();
  const endpoint = `http://127.0.0.1:${closedPort()}`;
  await using store = await openObjectStore("s3://lake", {
    env: envFor(endpoint),
    clock,
    attempts: 3,
    retryBaseMs: 100,
    random: () => 0.5,
  });
  const error = await assertRejects(() => store.preflight(), ConfigError, "ECONNREFUSED");
  assertStringIncludes(error.message, `cannot reach the object storage endpoint ${endpoint}`);
  assertStringIncludes(error.message, "after 3 attempts");
  assertStringIncludes(error.message, "S3_ENDPOINT");
  assertEquals(clock.sleeps, [50, 100]);
  assert(!error.message.includes(SECRET));
});

Deno.test("a 503 SlowDown on the PUT is retried after a backoff and the upload succeeds", async () => {
  await withStore(async ({ store, dir, clock, seen }) => {
    const path = await patternFile(dir, "part.csv", 500);
    const object = await store.upload(path, "Orders/part.csv");
    assertEquals(seen.filter((r) => r.method === "PUT").length, 2);
    assertEquals(clock.sleeps.length, 1);
    assertEquals((await store.list()).map((o) => o.key), [object.key]);
  }, {
    proxy: {
      before: (request, index) =>
        request.method === "PUT" && index === 0
          ? s3ErrorResponse(503, "SlowDown", "Please reduce your request rate.")
          : undefined,
    },
  });
});

Deno.test("a failed part aborts the multipart upload, which is retried whole and completes", async () => {
  let failed = false;
  await withStore(async ({ store, dir, endpoint, seen, clock }) => {
    const path = await patternFile(dir, "big.parquet", 10 * MIB + 1);
    const object = await store.upload(path, "Orders/big.parquet");
    assertEquals(seen.filter((r) => r.method === "DELETE" && r.query.has("uploadId")).length, 1);
    assertEquals(seen.filter((r) => r.method === "POST" && r.query.has("uploads")).length, 2);
    assertEquals(clock.sleeps.length, 1);
    assertEquals(await readObject(endpoint, "lake", object.key), await Deno.readFile(path));
  }, {
    store: { partSizeBytes: 5 * MIB, multipartThresholdBytes: 5 * MIB, queueSize: 1 },
    proxy: {
      before: (request) => {
        if (failed || request.query.get("partNumber") !== "2") return undefined;
        failed = true;
        return s3ErrorResponse(500, "InternalError", "We encountered an internal error.");
      },
    },
  });
});

Deno.test("a lasting 500 is an ObjectStoreError after every attempt, naming the object, without the secret", async () => {
  await withStore(async ({ store, dir, clock }) => {
    const path = await patternFile(dir, "part.csv", 500);
    const error = await assertRejects(
      () => store.upload(path, "Orders/part.csv"),
      ObjectStoreError,
      "after 2 attempts (InternalError, HTTP 500)",
    );
    assertStringIncludes(error.message, `s3://lake/raw/northwind/Orders/${LOAD}/part.csv`);
    assertEquals(clock.sleeps.length, 1);
    assert(!Deno.inspect(error, { depth: 10 }).includes(SECRET));
  }, {
    store: { attempts: 2 },
    proxy: {
      before: (request) =>
        request.method === "PUT"
          ? s3ErrorResponse(500, "InternalError", `failed for key ${SECRET}`)
          : undefined,
    },
  });
});

Deno.test("a closed store refuses further calls", async () => {
  await withStore(async ({ store, dir }) => {
    await store.close();
    const path = await patternFile(dir, "part.csv", 5);
    await assertRejects(() => store.upload(path, "Orders/part.csv"), ObjectStoreError, "closed");
  });
});
