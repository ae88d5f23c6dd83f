/**
 * A local S3 server for trying the Deploy entry (`deno task s3rver`): s3rver on 127.0.0.1
 * (`--port`, default 4568) with bucket `--bucket` (default `lake`), its files in `--dir`
 * (default `.s3rver/`), credentials `S3RVER`/`S3RVER`. Its first line is
 * `listening on http://127.0.0.1:PORT`. Stop it with Ctrl-C.
 * @module
 */
import { parseArgs } from "node:util";
import S3rver from "s3rver";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "4568" },
    bucket: { type: "string", default: "lake" },
    dir: { type: "string", default: ".s3rver" },
  },
});
await Deno.mkdir(values.dir!, { recursive: true });
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(values.port),
  silent: true,
  directory: values.dir!,
  configureBuckets: [{ name: values.bucket! }],
});
const { port } = await server.run() as { port: number };
console.log(
  `listening on http://127.0.0.1:${port} (bucket ${values.bucket}, files in ${values.dir})`,
);
const stop = async () => {
  await server.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
