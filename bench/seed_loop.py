"""The seed's harvest loop (lab 03, A3 "Cursor pagination + raw snapshot persistence"), as the
harvest benchmark's baseline: a requests.Session pages one table with a cursor; per page the raw
body is written to a snapshot file and a manifest line (sha256, bytes, params) is appended; the
rows are kept in a list in RAM. No Parquet, no fsync, no state, no retries (the mock does not
fault). Prints one JSON line: pages, rows, wall ms inside the loop.

    python3 bench/seed_loop.py BASE_URL TABLE PAGE_SIZE OUT_DIR
"""

import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import requests


def main() -> None:
    base, table, page_size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    raw_dir = out / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.jsonl"
    started = time.perf_counter()
    session = requests.Session()
    url = f"{base}/northwind/{table}.json"
    params = {"_size": page_size}
    next_tok = None
    page = 0
    all_rows = []
    while True:
        if next_tok:
            params["_next"] = next_tok
        resp = session.get(url, params=params, timeout=20)
        resp.raise_for_status()
        payload_bytes = resp.content
        payload = resp.json()
        rows = payload.get("rows", [])
        page += 1
        ts = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        (raw_dir / f"{table}_{ts}_{page:05d}.json").write_bytes(payload_bytes)
        record = {
            "source": url,
            "params": params,
            "table": table,
            "status": resp.status_code,
            "page": page,
            "timestamp": ts,
            "sha256": hashlib.sha256(payload_bytes).hexdigest(),
            "bytes": len(payload_bytes),
        }
        with manifest.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        if not rows:
            break
        all_rows.extend(rows)
        next_tok = payload.get("next")
        if not next_tok:
            break
    ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"pages": page, "rows": len(all_rows), "ms": ms}))


if __name__ == "__main__":
    main()
