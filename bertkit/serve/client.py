"""Drive serve.py from outside, as its users do: start it as a process, call it over HTTP, open it in chromium.
Used by tests/test_serve.py and benchmarks/serve_load.py (stdlib, plus selenium for the browser)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..results.record import REPO

from ..qa.tutorial import DEMO  # the tutorial's question, as ask.py and the runs ask it (no torch)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, path, body=None, content_type="application/json", method=None, timeout=120):
    """(status, text) of one request; a dict body is sent as JSON, bytes as they are."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"content-type": content_type} if data is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    """serve.py --model M on a free port of 127.0.0.1, up when this returns; stop() sends Ctrl-C (SIGINT)."""

    def __init__(self, model, *args, env=None):
        self.port = free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        self.p = subprocess.Popen([sys.executable, "serve.py", "--model", str(model), "--port", str(self.port),
                                   *map(str, args)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        for _ in range(480):
            if self.p.poll() is not None:
                raise RuntimeError(f"serve.py exited {self.p.returncode}: {self.p.stderr.read()[-2000:]}")
            try:
                if call(self.port, "/health", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        self.p.kill()
        raise RuntimeError("serve.py did not come up in 120 s")

    def stop(self) -> tuple[int, str]:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        _, err = self.p.communicate(timeout=60)
        return self.p.returncode, err


def chromium():
    """(headless Debian chromium through its own chromedriver, None) or (None, why not): nothing downloaded."""
    chrome, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chrome and driver):
        return None, "chromium / chromium-driver are not installed (apt-get install chromium chromium-driver)"
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ModuleNotFoundError:
        return None, "selenium is not installed (.venv/bin/python -m pip install -r requirements.txt)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900"):
        opts.add_argument(a)
    try:
        return webdriver.Chrome(service=Service(driver), options=opts), None
    except Exception as e:  # a browser that cannot start here: the caller skips or says why
        return None, f"chromium did not start ({type(e).__name__}: {str(e).splitlines()[0][:100]})"


def ask_demo_in_browser(browser, port, question=DEMO["question"], context=DEMO["context"], screenshot=None) -> dict:
    """Open the page, type the question and context, click Ask; what the page shows (and a screenshot)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"http://127.0.0.1:{port}/")
    for field, text in (("context", context), ("question", question)):
        el = browser.find_element(By.ID, field)
        el.clear()
        el.send_keys(text)
    browser.find_element(By.ID, "ask").click()
    WebDriverWait(browser, 60).until(EC.visibility_of_element_located((By.ID, "qa-result")))
    shown = {"answer": browser.find_element(By.ID, "answer").text,
             "highlighted": browser.find_element(By.CSS_SELECTOR, "#highlight mark").text,
             "nbest_rows": len(browser.find_elements(By.CSS_SELECTOR, "#nbest tbody tr"))}
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        browser.set_window_size(1000, browser.execute_script("return document.documentElement.scrollHeight") + 260)
        browser.save_screenshot(str(screenshot))
    return shown
