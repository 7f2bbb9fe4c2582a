"""static/ainvr/live.js's AI label, run under node with a stand-in page: after the boxes stop
it says what the server knows ("AI watching" for a healthy detector on a still scene) instead
of "AI idle", and a "camera.ai" event from the dashboard socket shows "AI down" or "AI
restarting" at once (issue 15, item 13)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.installs import REPO

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")

HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const clock = { t: 1000 };
const listeners = {};
let frame = null;
const sockets = [];

class El {
  constructor(dataset = {}, text = "") {
    this.dataset = dataset; this.textContent = text; this.className = "pill"; this.hidden = false; this.attrs = {};
  }
  addEventListener() {}
  setAttribute(k, v) { this.attrs[k] = v; }
  getAttribute(k) { return this.attrs[k] ?? null; }
  querySelector() { return null; }
}
const ctx = new Proxy({}, { get: () => () => ({ width: 0 }) });
const aiState = new El({ aiState: "watching" }, "AI watching");
const parts = {
  "video": Object.assign(new El(), { currentTime: 0, paused: true, videoWidth: 0, videoHeight: 0,
                                     buffered: { length: 0 }, removeAttribute() {}, load() {} }),
  "canvas": Object.assign(new El(), { width: 0, height: 0, getBoundingClientRect: () => ({ width: 100, height: 60 }),
                                      getContext: () => ctx }),
  "[data-msg]": new El(), "[data-ai-state]": aiState, "[data-camera-state]": new El(), "[data-fullscreen]": new El(),
};
const tile = Object.assign(new El({ camera: "gate", socket: "/ws/live/gate/", ai: "on" }), {
  querySelector: (sel) => parts[sel],
});
const toggle = new El(); toggle.attrs["aria-pressed"] = "true";
const document = {
  querySelectorAll: (sel) => (sel === "[data-tile]" ? [tile] : []),
  querySelector: (sel) => (sel === "[data-overlay-toggle]" ? toggle : null),
};
class WebSocket { constructor(url) { this.url = url; sockets.push(this); } close() {} }
const window = {
  addEventListener: (type, f) => { listeners[type] = f; },
  dispatchEvent() {}, devicePixelRatio: 1,
};
const sandbox = {
  window, document, WebSocket, location: { protocol: "http:", host: "nvr" }, console, JSON, Math, Date, Event: class {},
  URL, performance: { now: () => clock.t }, setTimeout: () => 0, requestAnimationFrame: (f) => { frame = f; },
};
vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), sandbox);

const seen = [];
const look = (what) => seen.push([what, aiState.textContent, aiState.className]);
const send = (msg) => sockets[0].onmessage({ data: JSON.stringify(msg) });
const tick = (ms) => { clock.t += ms; frame(); };
const dashboard = (state) => listeners["ainvr:dashboard"]({ detail: { event: "camera.ai",
  payload: { camera: "gate", state: state, label: "AI " + state } } });

look("page");
send({ type: "init", codec: "avc1.64001F", epoch: 1700000000 });
send({ type: "detections", captured_at: 1700000001, inference_ms: 12.4, objects: [] });
look("boxes");
tick(11000);
look("no boxes for 11 s");
dashboard("down");
look("detector died");
dashboard("restarting");
look("being restarted");
dashboard("watching");
look("back");
console.log(JSON.stringify(seen));
"""


def test_the_label_tells_a_still_scene_from_a_dead_detector(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    done = subprocess.run([NODE, str(harness), str(REPO / "static/ainvr/live.js")], capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        ["page", "AI watching", "pill"],
        ["boxes", "AI 12 ms", "pill ai-on"],
        ["no boxes for 11 s", "AI watching", "pill ai-watching"],
        ["detector died", "AI down", "pill ai-down"],
        ["being restarted", "AI restarting", "pill ai-restarting"],
        ["back", "AI watching", "pill ai-watching"],
    ]
