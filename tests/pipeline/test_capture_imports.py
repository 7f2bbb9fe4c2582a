"""Capture processes run without Django set up: what the forkserver preloads and the capture
entry point import no ORM, no app registry and none of our models (import-linter checks our
own modules; this checks what the libraries pull in too)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import importlib, json, sys
from pipeline.processes.capture import CAPTURE_PRELOAD
for name in CAPTURE_PRELOAD:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def test_a_capture_process_imports_no_orm_no_app_registry_and_no_models():
    out = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    modules = json.loads(out.stdout)
    assert "pipeline.capture" in modules and "av" in modules  # the preload did run
    forbidden = [
        m
        for m in modules
        if m.startswith(("django.db", "django.apps", "django.contrib"))
        or m.endswith(".models")
        and m.split(".")[0] in {"cameras", "recordings", "detection", "attendance", "notifications", "ops"}
    ]
    assert forbidden == []
