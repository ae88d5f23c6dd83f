import { assertEquals, assertThrows } from "../assert.ts";
import {
  type CommandSpec,
  formatHelp,
  parseDuration,
  parseFlags,
  parseIntValue,
} from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/core/errors.ts";

const spec: CommandSpec = {
  name: "demo",
  summary: "a demo",
  usage: "demo [--port N]",
  flags: {
    port: { type: "string", value: "N", description: "port" },
    verbose: { type: "boolean", description: "talk more" },
  },
};

Deno.test("parseFlags returns values and positionals", () => {
  const parsed = parseFlags(spec, ["--port", "9000", "x", "--verbose"]);
  assertEquals(parsed.values.port, "9000");
  assertEquals(parsed.values.verbose, true);
  assertEquals(parsed.positionals, ["x"]);
});

Deno.test("an unknown flag names itself and lists the accepted flags", () => {
  const error = assertThrows(() => parseFlags(spec, ["--prot", "1"]), UsageError);
  assertEquals(
    error.message,
    "unknown flag --prot for 'tidemark demo'; accepted: --port, --verbose",
  );
  assertEquals(error.exitCode, 2);
});

Deno.test("a string flag without its value is refused", () => {
  const error = assertThrows(() => parseFlags(spec, ["--port"]), UsageError);
  assertEquals(error.message, "flag --port of 'tidemark demo' needs a value");
});

Deno.test("durations accept ms, s, m, h and bare seconds", () => {
  assertEquals(parseDuration("500ms", "--x"), 500);
  assertEquals(parseDuration("30s", "--x"), 30_000);
  assertEquals(parseDuration("2m", "--x"), 120_000);
  assertEquals(parseDuration("1h", "--x"), 3_600_000);
  assertEquals(parseDuration("45", "--x"), 45_000);
  assertThrows(() => parseDuration("soon", "--token-ttl"), UsageError, "--token-ttl must be");
});

Deno.test("integers are bounded and must be whole", () => {
  assertEquals(parseIntValue("3", "--scale", { min: 1 }), 3);
  assertThrows(() => parseIntValue("-1", "--scale", { min: 1 }), UsageError, "at least 1");
  assertThrows(() => parseIntValue("1.5", "--scale"), UsageError, "whole number");
});

Deno.test("help lists every flag and --help", () => {
  const help = formatHelp(spec);
  for (const word of ["--port N", "--verbose", "--help", "Usage: tidemark demo"]) {
    assertEquals(help.includes(word), true, word);
  }
});

Deno.test("a negative number after a string flag is its value, not another flag", () => {
  const parsed = parseFlags(spec, ["--port", "-1"]);
  assertEquals(parsed.values.port, "-1");
});
