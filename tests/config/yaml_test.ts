/**
 * Reading YAML: YAML 1.2 core scalars, the line and column of every error, and documents whose
 * aliases would expand without end.
 */
import { parseYaml } from "../../lib/config/yaml.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

Deno.test("yaml: YAML 1.2 core scalars — dates and yes/no stay text, numbers and null are typed", () => {
  assertEquals(
    parseYaml("a: 2024-01-01\nb: yes\nc: 0x1F\nd: ~\ne: 1e3\nf: '12'\ng: 2024-01-01T10:00:00Z\n"),
    {
      ok: true,
      value: {
        a: "2024-01-01",
        b: "yes",
        c: 31,
        d: null,
        e: 1000,
        f: "12",
        g: "2024-01-01T10:00:00Z",
      },
    },
  );
  assertEquals(parseYaml("  \n"), { ok: true, value: null });
  assertEquals(parseYaml("base: &b { k: 1 }\nother: *b\n"), {
    ok: true,
    value: { base: { k: 1 }, other: { k: 1 } },
  });
});

Deno.test("yaml: a syntax error names its line and column (1-based)", () => {
  const result = parseYaml("name: x\nassets:\n  - name: a\n   path: /a\n");
  assert(!result.ok);
  assertEquals(result.issues.length, 1);
  assertEquals(result.issues[0].path, "line 4, column 4");
});

Deno.test("yaml: aliases that expand past 100 000 values are refused, not walked", () => {
  const levels = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i <= 8; i++) {
    levels.push(`l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(", ")}]`);
  }
  const result = parseYaml(levels.join("\n") + "\n");
  assert(!result.ok);
  assertEquals(result.issues[0].message.startsWith("its aliases expand to more than 100000"), true);
});

Deno.test("yaml: a config's YAML error is a ConfigError naming the file, line and column", () => {
  const error = assertThrows(
    () => parseConfig("name: x\nname: y\n", { source: "job.yaml", env: {} }),
    ConfigError,
  );
  assertEquals(error.message.startsWith("invalid YAML in job.yaml"), true);
  assertEquals(error.issues, [{ path: "line 2, column 1", message: "duplicated mapping key" }]);
  assertThrows(() => parseConfig("\n", { source: "job.yaml", env: {} }), ConfigError, "mapping");
});
