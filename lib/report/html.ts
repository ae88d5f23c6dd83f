/**
 * The HTML run report: one self-contained HTML5 file (inline CSS and SVG, no script, no external
 * asset) with the run summary, per-asset bar charts, and a request timeline — one bar per
 * manifest line, each attempt coloured by its status, rate-limiter holds and retry sleeps drawn
 * as hatched waits — so a user sees at a glance where a run spent its time.
 * @module
 */
import { ASSET_TABLE_HEADINGS, formatFigures } from "./asset_table.ts";
import type { AssetReport, RequestEntry, RunReport } from "./report_model.ts";
import { formatBytes, formatCount, formatSeconds } from "../core/units.ts";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/** The CSS class that colours an attempt: by status family, or by failure kind. */
export function statusClass(status: number | null, kind = "http"): string {
  if (kind !== "http") return "s-fail";
  if (status === null) return "s-sql";
  if (status === 304) return "s-304";
  if (status === 429) return "s-429";
  if (status >= 500) return "s-5xx";
  if (status >= 400) return "s-4xx";
  if (status >= 300) return "s-3xx";
  return "s-2xx";
}

const CSS = `
:root{--fg:#1d232b;--muted:#5f6b7a;--line:#dde2e8;--bg:#fff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.b-succeeded,.b-ok{background:#dff3e6;color:#1c6b3a}.b-failed{background:#fbe1e1;color:#9b1c1c}
.b-incomplete,.b-skipped,.b-partial{background:#fdf0d8;color:#8a5300}.b-unchanged{background:#e1ecfb;color:#1f4f9b}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:19px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child,td.text{text-align:left}td.text{white-space:normal}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:14px}
.chart{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px}
.chart h3{font-size:13px;margin:0 0 4px}
svg text{font:11px system-ui,sans-serif;fill:var(--fg)}
.bar{fill:#4a78b5}
.s-2xx{fill:#2e9d5b}.s-3xx{fill:#5aa5a0}.s-304{fill:#3b7dd8}.s-429{fill:#e08a1e}
.s-4xx{fill:#8e5bd6}.s-5xx{fill:#d64545}.s-fail{fill:#7a1f1f}.s-sql{fill:#1f9d9d}
.wait{fill:url(#hatch)}.axis{stroke:#c4ccd6;stroke-width:1}
.lane{fill:var(--panel)}
.legend span{display:inline-flex;align-items:center;gap:4px;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px}
.timeline{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
ul.errors li{color:#9b1c1c}
`;

const LEGEND: [string, string, string][] = [
  ["s-2xx", "#2e9d5b", "2xx"],
  ["s-304", "#3b7dd8", "304 unchanged"],
  ["s-429", "#e08a1e", "429 rate limited"],
  ["s-5xx", "#d64545", "5xx"],
  ["s-4xx", "#8e5bd6", "other 4xx"],
  ["s-fail", "#7a1f1f", "timeout / reset / truncated"],
  ["s-sql", "#1f9d9d", "SQL part"],
];

function card(label: string, value: string): string {
  return `<div class="card"><span class="muted">${escapeHtml(label)}</span><b>${
    escapeHtml(value)
  }</b></div>`;
}

function summary(report: RunReport): string {
  const t = report.totals;
  return `<div class="cards">${
    [
      card("assets", formatCount(t.assets)),
      card("pages", formatCount(t.pages)),
      card("requests", formatCount(t.requests)),
      card("records", formatCount(t.records)),
      card("rejects", formatCount(t.rejects)),
      card("retries", formatCount(t.retries)),
      card("429s", formatCount(t.status_429)),
      card("304s", formatCount(t.status_304)),
      card("skips", formatCount(t.skips)),
      card("bytes", formatBytes(t.bytes)),
      card("time", formatSeconds(t.seconds)),
      card("errors", formatCount(t.errors)),
    ].join("")
  }</div>`;
}

function assetTable(assets: AssetReport[]): string {
  const head = ASSET_TABLE_HEADINGS.map((h) => `<th>${h}</th>`).join("");
  const rows = assets.map((a) =>
    `<tr><td>${
      escapeHtml(a.asset)
    }</td><td><span class="badge b-${a.status}">${a.status}</span></td>` +
    formatFigures(a).map((f) => `<td>${f}</td>`).join("") +
    `<td class="text">${
      a.start ? escapeHtml(`${a.start.source}: ${a.start.reason}`) : '<span class="muted">—</span>'
    }</td></tr>`
  ).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function barChart(
  title: string,
  assets: AssetReport[],
  value: (a: AssetReport) => number,
  label: (n: number) => string,
): string {
  const rowH = 20;
  const labelW = 110;
  const width = 260;
  const barW = width - labelW - 60;
  const max = Math.max(1, ...assets.map(value));
  const height = Math.max(rowH, assets.length * rowH);
  const bars = assets.map((a, i) => {
    const y = i * rowH;
    const w = (value(a) / max) * barW;
    const name = a.asset.length > 16 ? `${a.asset.slice(0, 15)}…` : a.asset;
    return `<g><title>${escapeHtml(`${a.asset}: ${label(value(a))}`)}</title>` +
      `<text x="0" y="${y + 14}">${escapeHtml(name)}</text>` +
      `<rect class="bar" x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${
        rowH - 8
      }"></rect>` +
      `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 14}">${
        escapeHtml(label(value(a)))
      }</text></g>`;
  }).join("");
  return `<div class="chart"><h3>${
    escapeHtml(title)
  }</h3><svg role="img" viewBox="0 0 ${width} ${height}" width="100%" height="${height}">${bars}</svg></div>`;
}

function niceStep(spanMs: number): number {
  const rough = spanMs / 8;
  const pow = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= rough) return m * pow;
  return 10 * pow;
}

/** Packs requests into lanes per asset so overlapping (concurrent) requests do not overlap. */
function lanes(requests: RequestEntry[]): { asset: string; lane: number; r: RequestEntry }[] {
  const byAsset = new Map<string, RequestEntry[]>();
  for (const r of requests) {
    const list = byAsset.get(r.asset);
    if (list) list.push(r);
    else byAsset.set(r.asset, [r]);
  }
  const placed: { asset: string; lane: number; r: RequestEntry }[] = [];
  let base = 0;
  for (const [asset, list] of byAsset) {
    const ends: number[] = [];
    const sorted = [...list].sort((a, b) => span(a).start - span(b).start);
    for (const r of sorted) {
      const { start, end } = span(r);
      let lane = ends.findIndex((e) => e <= start);
      if (lane < 0) {
        lane = ends.length;
        ends.push(end);
      } else ends[lane] = end;
      placed.push({ asset, lane: base + lane, r });
    }
    base += Math.max(1, ends.length);
  }
  return placed;
}

function span(r: RequestEntry): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const t of r.tries) {
    start = Math.min(start, t.offset_ms - t.queued_ms);
    end = Math.max(end, t.offset_ms + t.elapsed_ms + t.slept_ms);
  }
  return { start, end };
}

function timeline(report: RunReport): string {
  const placed = lanes(report.requests);
  if (placed.length === 0) return '<p class="muted">No requests in this run.</p>';
  const laneH = 14;
  const left = 130;
  const width = 1100;
  const plotW = width - left - 10;
  let endMs = 1;
  for (const p of placed) endMs = Math.max(endMs, span(p.r).end);
  let lanesUsed = 1;
  for (const p of placed) lanesUsed = Math.max(lanesUsed, p.lane + 1);
  const top = 22;
  const height = top + lanesUsed * laneH + 6;
  const x = (ms: number) => left + (Math.max(0, ms) / endMs) * plotW;
  const w = (ms: number) => Math.max(0.6, (ms / endMs) * plotW);
  const step = niceStep(endMs);
  const ticks: string[] = [];
  for (let t = 0; t <= endMs; t += step) {
    ticks.push(
      `<line class="axis" x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${
        x(t).toFixed(1)
      }" y2="${height}"></line><text x="${(x(t) + 2).toFixed(1)}" y="${top - 8}">${
        escapeHtml(formatSeconds(t / 1000))
      }</text>`,
    );
  }
  const labels: string[] = [];
  const firstLane = new Map<string, number>();
  for (const p of placed) {
    firstLane.set(p.asset, Math.min(firstLane.get(p.asset) ?? Infinity, p.lane));
  }
  for (const [asset, lane] of firstLane) {
    const name = asset.length > 18 ? `${asset.slice(0, 17)}…` : asset;
    labels.push(
      `<text x="4" y="${top + lane * laneH + 11}">${escapeHtml(name)}</text>`,
    );
  }
  const bars = placed.map(({ lane, r }, i) => {
    const y = top + lane * laneH + 2;
    const h = laneH - 4;
    const parts: string[] = [];
    for (const t of r.tries) {
      if (t.queued_ms > 0) {
        parts.push(
          `<rect class="wait" x="${x(t.offset_ms - t.queued_ms).toFixed(2)}" y="${y}" width="${
            w(t.queued_ms).toFixed(2)
          }" height="${h}"></rect>`,
        );
      }
      parts.push(
        `<rect class="${statusClass(t.status, t.kind)}" x="${
          x(t.offset_ms).toFixed(2)
        }" y="${y}" width="${w(t.elapsed_ms).toFixed(2)}" height="${h}"></rect>`,
      );
      if (t.slept_ms > 0) {
        parts.push(
          `<rect class="wait" x="${x(t.offset_ms + t.elapsed_ms).toFixed(2)}" y="${y}" width="${
            w(t.slept_ms).toFixed(2)
          }" height="${h}"></rect>`,
        );
      }
    }
    const tip = `${r.asset}${r.partition ? ` [${r.partition}]` : ""} page ${r.page} · ${
      r.status ?? "sql"
    }${r.unchanged ? " unchanged" : ""} · ${r.attempts} attempt${r.attempts === 1 ? "" : "s"}${
      r.slept_ms > 0 ? ` · slept ${formatSeconds(r.slept_ms / 1000)}` : ""
    }${r.retry_after !== null ? ` · retry-after ${r.retry_after} s` : ""} · ${
      formatSeconds(r.elapsed_ms / 1000)
    } · ${formatCount(r.rows)} rows · ${formatBytes(r.bytes)}`;
    return `<g class="req" data-line="${i + 1}" data-status="${
      r.status ?? "sql"
    }" data-attempts="${r.attempts}"><title>${escapeHtml(tip)}</title>${parts.join("")}</g>`;
  }).join("");
  const defs = `<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" ` +
    `patternTransform="rotate(45)"><rect width="4" height="4" fill="#eceff3"></rect>` +
    `<rect width="1.5" height="4" fill="#9aa5b1"></rect></pattern></defs>`;
  const legend = `<p class="legend">${
    LEGEND.map(([, color, label]) =>
      `<span><i style="background:${color}"></i>${escapeHtml(label)}</span>`
    ).join("")
  }<span><i style="background:repeating-linear-gradient(45deg,#9aa5b1 0 1.5px,#eceff3 1.5px 4px)"></i>wait (rate limiter, backoff, Retry-After)</span></p>`;
  return `${legend}<div class="timeline"><svg role="img" aria-label="request timeline" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${defs}${ticks.join("")}${
      labels.join("")
    }${bars}</svg></div>`;
}

function problems(report: RunReport): string {
  const items: string[] = [];
  for (const a of report.assets) {
    for (const e of a.errors) items.push(`<li>${escapeHtml(`${a.asset}: ${e}`)}</li>`);
    for (const s of a.skip_reasons) {
      items.push(`<li>${escapeHtml(`${a.asset} skipped: ${s}`)}</li>`);
    }
  }
  const notes = report.assets.flatMap((a) =>
    a.notes.map((n) => `<li>${escapeHtml(`${a.asset}: ${n}`)}</li>`)
  );
  return (items.length
    ? `<h2>Errors and skips</h2><ul class="errors">${items.join("")}</ul>`
    : "") +
    (notes.length ? `<h2>Notes</h2><ul>${notes.join("")}</ul>` : "");
}

/**
 * Renders a run report as one self-contained HTML5 page.
 *
 * @example
 * ```ts
 * import { renderHtmlReport } from "./html.ts";
 * import { readRunReport } from "./report_files.ts";
 * await Deno.writeTextFile("report.html", renderHtmlReport(await readRunReport("demo-out")));
 * ```
 */
export function renderHtmlReport(report: RunReport): string {
  const title = `Tidemark run ${report.run_id}`;
  const when = `${report.started_at}${report.finished_at ? ` → ${report.finished_at}` : ""} · ${
    formatSeconds(report.seconds)
  }`;
  const env = report.env ? ` · tidemark ${report.env.tidemark}, deno ${report.env.deno}` : "";
  const charts = [
    barChart("records", report.assets, (a) => a.records, formatCount),
    barChart("pages", report.assets, (a) => a.pages, formatCount),
    barChart("retries", report.assets, (a) => a.retries, formatCount),
    barChart("bytes", report.assets, (a) => a.bytes, formatBytes),
    barChart("seconds", report.assets, (a) => a.seconds, (n) => formatSeconds(n)),
  ].join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)} <span class="badge b-${report.status}">${report.status}</span></h1>
<p class="muted">${escapeHtml(when + env)}${
    report.config_sha256 ? ` · config ${escapeHtml(report.config_sha256.slice(0, 12))}` : ""
  }</p>
</header>
<main>
<section id="summary"><h2>Summary</h2>${summary(report)}</section>
<section id="assets"><h2>Assets</h2>${assetTable(report.assets)}
<div class="charts">${charts}</div></section>
<section id="timeline"><h2>Request timeline</h2>
<p class="muted">One bar per manifest line (${
    formatCount(report.requests.length)
  }); each attempt coloured by status, waits hatched. Hover a bar for details.</p>
${timeline(report)}</section>
${problems(report)}
</main>
</body>
</html>
`;
}
