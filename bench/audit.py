"""Audit log and personal-data masking speed: receipts appended per second (one process, and four in
parallel), verify time over the whole chain, and masking time per 1,000 result rows."""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audit import AuditLog, Receipt  # noqa: E402
from assistant.policy.pii import mask_rows  # noqa: E402

_WRITER = """
import sys
from pathlib import Path
from assistant.audit import AuditLog, Receipt
log = AuditLog(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    log.append(Receipt("sql.run", "bench", "citizen", sql=f"SELECT {i}"))
"""


def main(entries: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder) / "one")
        started = time.perf_counter()
        for i in range(entries):
            log.append(Receipt("ask", "bench", "citizen", f"question {i}", chunk_ids=[f"c{i}"] * 4))
        append_s = time.perf_counter() - started
        started = time.perf_counter()
        ok = log.verify().ok
        verify_s = time.perf_counter() - started
        parallel = Path(folder) / "four"
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", _WRITER, str(parallel), str(entries // 4)],
                                      cwd=Path(__file__).resolve().parents[1]) for _ in range(4)]
        assert all(p.wait() == 0 for p in processes)
        parallel_s = time.perf_counter() - started
        assert AuditLog(parallel).verify().ok
    rows = [[i, f"user{i}@example.cn", "13800138000", "北京市朝阳区", 12.5] for i in range(1000)]
    started = time.perf_counter()
    mask_rows(rows)
    mask_ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"entries": entries, "appends_per_s": round(entries / append_s), "verify_s": round(verify_s, 3),
                      "chain_ok": ok, "four_process_appends_per_s": round(entries / parallel_s),
                      "mask_ms_per_1000_rows_x5_cols": round(mask_ms, 1)}, indent=1))


if __name__ == "__main__":
    main()
