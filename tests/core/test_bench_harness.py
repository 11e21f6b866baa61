"""The benchmark harness itself works (tiny N, its own database); no timing is asserted here."""

import json
import os
import subprocess
import sys

from django.conf import settings

# B8 and B9 at a few requests and e-mails: the servers start, answer and are measured.
TINY_SERVERS = ["--load-seconds", "1", "--load-repeats", "1", "--web-first", "5", "--web-requests", "20"]
TINY_SERVERS += ["--worker-first", "5", "--worker-emails", "20"]


def test_seed_scale_and_bench_run_at_tiny_n(tmp_path):
    env = {
        **os.environ,
        "BENCH_DB": "collab_hub_bench_ci",
    }
    out = tmp_path / "results.json"
    for _attempt in range(2):  # the second run reuses the database that holds the asked N
        result = subprocess.run(
            ["bash", "scripts/bench.sh", "200", "--repeats", "1", "--out", str(out), *TINY_SERVERS],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    # Reused, unless local midnight fell between the two runs (a data set belongs to its day).
    assert "already holds 200 scale referrals" in result.stdout or "earlier day" in result.stderr
    results = {r["id"]: r for r in json.loads(out.read_text())["results"]}
    assert sorted(results) == sorted([f"B{i}" for i in range(1, 11)] + ["SC"])
    assert all(r["n"] >= 200 for r in results.values())
    assert results["B3"]["pass"] is True  # query counts do not depend on the rows
    assert (
        results["B3"]["small_n"] < results["B3"]["n"]
        and results["B3"]["small_counts"] == results["B3"]["value"]
    )
    assert all(results["SC"]["value"].values())  # the pages agree with SQL
    assert results["B6"]["created"] == results["B6"]["due"] > 0 and results["B6"]["duplicates"] == 0
    assert results["B7"]["new"] == 0
    assert results["B8"]["inbox_rps"] > 0 and results["B8"]["trivial_rps"] > 0
    assert results["B9"]["web"]["total"] == 20 and results["B9"]["worker"]["total"] == 20
    assert results["B10"]["emails"] == 15 and results["B10"]["value"] > 0


def test_seed_scale_refuses_other_databases():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_scale", "--referrals", "100"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": "postgres:///postgres"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "benchmark database" in result.stderr
