"""JupyterLab as a new user meets it, driven by headless Chromium: `make browser-test` (not part of `make test`).

Starts JupyterLab on 127.0.0.1 (a free port, a random token), opens a library notebook, checks that its kernel
starts with no "Select Kernel" dialog, runs every cell, waits for the kernel, fails on any error or stderr output
(model and page), clears the outputs and saves the notebook (the committed form: no outputs; nbdev's save hook
cleans the rest), stops the server, and checks that `git status --porcelain` is what it was before.
Chromium is driven through its DevTools protocol with websocket-client, which JupyterLab already installs.

    python tests/browser_jupyterlab.py [--notebook nbs/00_schedules.ipynb] [--screenshot build/browser-test/lab.png]
"""
import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, every: float = 0.25):
    "Poll `check()` until it returns something truthy; fail with `what` after `timeout` seconds."
    end = time.time() + timeout
    while time.time() < end:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class Page:
    "One Chromium tab over the DevTools protocol."

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=120, suppress_origin=True)
        self.n = 0

    def call(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"in the page: {r['exceptionDetails'].get('exception', {}).get('description', r)}")
        return r["result"].get("value")

    def screenshot(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        import base64
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))


# The open notebook as seen by JupyterLab: its kernel, the code cells run so far, error and stderr outputs (from the
# notebook's model, and as rendered in the page), and the text of any dialog on screen.
STATE_JS = """(path => {
  const app = window.jupyterapp;
  const w = app && Array.from(app.shell.widgets('main')).find(x => x.context && x.context.path === path);
  const dialog = document.querySelector('.jp-Dialog');
  const state = {dialog: dialog ? dialog.innerText : null};
  if (!w || !w.content || !w.sessionContext || !w.context || !w.context.isReady) return state;
  const cells = w.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
  const outs = cells.flatMap(c => c.model.outputs.toJSON());
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return Object.assign(state, {
    path: w.context.path, dirty: w.context.model.dirty, kernel: kernel ? kernel.name : null,
    kernel_display: w.sessionContext.kernelDisplayName, status: kernel ? kernel.status : null,
    code_cells: cells.length, run: cells.filter(c => c.model.executionCount !== null).length,
    busy: cells.filter(c => c.promptNode && c.promptNode.innerText.includes('*')).length,
    errors: outs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
    stderr: outs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(o => [].concat(o.text).join('')),
    page_errors: document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
  });
})(%s)"""


ACTIVATE_JS = """(path => {
  const app = window.jupyterapp;
  app.shell.activateById(Array.from(app.shell.widgets('main')).find(x => x.context && x.context.path === path).id);
  return app.shell.currentWidget.context.path;
})(%s)"""


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def find_chromium() -> str:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    sys.exit("no Chromium found: `sudo apt-get install chromium` (or set CHROMIUM to its path)")


def start_chromium(tmp: Path):
    """Headless Chromium with its profile and log in `tmp`: (the process, its first tab as a `Page`). The caller
    terminates the process and closes `process.log`."""
    cmd = [find_chromium(), "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
           f"--user-data-dir={tmp / 'chromium'}", "--remote-debugging-port=0", "--window-size=1400,1000", "about:blank"]
    if os.geteuid() == 0:
        cmd.insert(1, "--no-sandbox")   # Chromium's sandbox refuses to run as root
    log = open(tmp / "chromium.log", "w")
    chrome = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    chrome.log = log
    devtools = tmp / "chromium" / "DevToolsActivePort"
    wait_until(lambda: devtools.exists() and devtools.read_text().strip(), 60, "Chromium to start")
    cdp = int(devtools.read_text().split()[0])
    tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{cdp}/json/list", timeout=10))
    page = Page(next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"])
    page.call("Page.enable")
    return chrome, page


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", default="nbs/00_schedules.ipynb", help="relative to the repository")
    ap.add_argument("--screenshot", default="build/browser-test/jupyterlab.png", help="after the run")
    ap.add_argument("--timeout", type=float, default=300, help="seconds for the notebook to run")
    args = ap.parse_args()
    nb = args.notebook
    assert (ROOT / nb).is_file(), f"no notebook {nb}"
    before = git_status()
    tmp = Path(tempfile.mkdtemp(prefix="minsnr-browser-"))
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    lab_cmd = [str(BIN / "jupyter-lab"), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.expose_app_in_browser=True",           # window.jupyterapp: the app's commands and state
               f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}"]
    if os.geteuid() == 0:
        lab_cmd.append("--allow-root")
    lab_log = open(tmp / "jupyterlab.log", "w")
    lab = subprocess.Popen(lab_cmd, cwd=ROOT, stdout=lab_log, stderr=subprocess.STDOUT)
    chrome = page = None
    ok = False
    try:
        wait_until(lambda: http_ok(f"{base}/api/status?token={token}") or lab.poll() is not None, 120,
                   "JupyterLab to start")
        assert lab.poll() is None, f"JupyterLab exited: see {tmp / 'jupyterlab.log'}"
        print(f"JupyterLab on {base}", flush=True)
        chrome, page = start_chromium(tmp)
        page.call("Emulation.setFocusEmulationEnabled", enabled=True)   # focus, as a window a user looks at has
        page.call("Page.navigate", url=f"{base}/lab/tree/{nb}?token={token}")

        state = lambda: page.js(STATE_JS % json.dumps(nb)) or {}
        # The kernel must start by itself: the notebook's kernelspec names one that exists, so no dialog.
        s = wait_until(lambda: (lambda s: s if s.get("dialog") or s.get("status") == "idle" else None)(state()),
                       120, "the notebook to open and its kernel to start")
        if s.get("dialog"):
            page.screenshot(ROOT / args.screenshot)
            raise AssertionError(f"a dialog came up on opening {nb}: {s['dialog']!r}")
        print(f"opened {s['path']}: kernel {s['kernel']!r} ({s['kernel_display']}), {s['code_cells']} code cells,"
              f" no dialog", flush=True)

        # Make it the current widget, as a click on its tab would (a headless window has no focus to follow).
        page.js(ACTIVATE_JS % json.dumps(nb))
        page.js("window.jupyterapp.commands.execute('notebook:run-all-cells'), true")
        t0 = time.time()

        def finished():
            s = state()
            if s.get("errors") or s.get("dialog"):
                return s
            return s if s.get("run") == s.get("code_cells") and not s.get("busy") and s.get("status") == "idle" else None

        s = wait_until(finished, args.timeout, f"{nb} to run")
        time.sleep(1)   # the last outputs rendered
        s = state()
        page.screenshot(ROOT / args.screenshot)
        print(f"ran {s['run']}/{s['code_cells']} code cells in {time.time() - t0:.0f} s; screenshot {args.screenshot}",
              flush=True)
        assert not s.get("dialog"), f"a dialog came up while running: {s['dialog']!r}"
        assert not s["errors"], f"error output: {s['errors']}"
        assert not s["stderr"], f"stderr output: {s['stderr']}"
        assert s["page_errors"] == 0, f"{s['page_errors']} error/stderr outputs rendered in the page"

        # Commit form: no outputs. Clear them and save; nbdev's save hook strips the metadata JupyterLab adds.
        page.js("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs'), true")
        page.js("window.jupyterapp.commands.execute('docmanager:save')")
        wait_until(lambda: state().get("dirty") is False, 30, "the notebook to be saved")
        print("outputs cleared, saved", flush=True)
        ok = True
    finally:
        if page is not None and not ok:
            try:
                page.screenshot(ROOT / args.screenshot)
                print(f"at the failure (screenshot {args.screenshot}): {page.js(STATE_JS % json.dumps(nb))}", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - the original failure matters more
                print(f"no screenshot: {e}", file=sys.stderr)
        if chrome is not None:
            chrome.terminate()
            chrome.wait(30)
            chrome.log.close()
        try:   # stops the server and its kernels
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"),
                                   timeout=10)
        except OSError:
            lab.terminate()
        try:
            lab.wait(60)
        except subprocess.TimeoutExpired:
            lab.kill()
        lab_log.close()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs: {tmp}", file=sys.stderr)
    after = git_status()
    assert after == before, f"the run changed the working tree:\nbefore:\n{before}\nafter:\n{after}\n" + \
        subprocess.run(["git", "diff", "--stat"], cwd=ROOT, capture_output=True, text=True).stdout
    print("git status unchanged: browser test OK")


if __name__ == "__main__":
    main()
