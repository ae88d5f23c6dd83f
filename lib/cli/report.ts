/**
 * `tidemark report --out DIR [--run ID] [--format text|json|html]`: prints a run's report (the
 * latest run by default). A run that never wrote its report (a crash) is rebuilt from the
 * manifest and marked `incomplete`.
 * @module
 */
import { withOutFolder } from "./bucket_out.ts";
import { choiceValue, type Command, parseFlags, stringFlag } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { renderHtmlReport } from "../report/html.ts";
import { readRunReport } from "../report/report_files.ts";
import { renderTextReport } from "../report/text.ts";

const FORMATS = ["text", "json", "html"] as const;

/** The `report` command. */
export const command: Command = {
  spec: {
    name: "report",
    summary: "print a run report (text, JSON or HTML)",
    usage: "report --out DIR [--run ID] [--format text|json|html]",
    flags: {
      out: { type: "string", value: "DIR", description: "the out folder of a harvest" },
      run: { type: "string", value: "ID", description: "run id", default: "the latest run" },
      format: {
        type: "string",
        value: "FORMAT",
        description: "text, json or html (a self-contained page: redirect it to a file)",
        default: "text",
      },
    },
    details:
      "Reports are also written at the end of every run to DIR/reports/<run_id>.{json,html}.",
  },
  async run(args: string[]): Promise<number> {
    const flags = parseFlags(command.spec, args);
    const out = stringFlag(flags, "out");
    if (out === undefined) {
      throw new UsageError("tidemark report needs --out DIR, the out folder of a harvest");
    }
    if (flags.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${flags.positionals[0]}"; usage: ${command.spec.usage}`,
      );
    }
    const format = choiceValue(stringFlag(flags, "format") ?? "text", "--format", FORMATS);
    const report = await withOutFolder(out, (dir) => readRunReport(dir, stringFlag(flags, "run")));
    const text = format === "json"
      ? JSON.stringify(report, null, 2)
      : format === "html"
      ? renderHtmlReport(report)
      : renderTextReport(report);
    console.log(text);
    return 0;
  },
};
