#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Headless Chromium for shell tests, through Debian's chromium-driver.

Reads one JSON array per line on stdin, [COMMAND, ARG...], and answers each
with one JSON object on stdout: {"ok": true, "value": ...} or
{"ok": false, "error": "..."}. The shell test keeps the assertions; this
only drives the browser. Waits poll the DOM with a timeout (the page
itself never polls). Commands:

  open URL                       load a page
  wait CSS [SECONDS]             until an element matching CSS is displayed
  wait-gone CSS [SECONDS]        until no displayed element matches CSS
  wait-text CSS TEXT [SECONDS]   until an element matching CSS contains TEXT
  text CSS                       the first match's visible text
  attr CSS NAME                  the first match's attribute NAME
  attrs CSS NAME                 NAME of every match, as a list
  count CSS                      how many elements match
  click CSS                      click the first match
  click-all CSS                  click every displayed match (how many)
  select CSS VALUE               choose the option with VALUE in a <select>
  type CSS TEXT                  clear an input and type TEXT
  check CSS true|false           set a checkbox
  screenshot FILE                save the viewport as PNG
  console                        browser console lines since the last call
  quit
"""

import json
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1280, 800


def start():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=%d,%d" % (WIDTH, HEIGHT), "--lang=en-US"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    # The window includes no browser UI in headless mode; make the viewport
    # exactly WIDTH x HEIGHT whatever the platform adds.
    vw, vh = drv.execute_script("return [window.innerWidth, window.innerHeight]")
    if (vw, vh) != (WIDTH, HEIGHT):
        w, h = drv.get_window_size().values()
        drv.set_window_size(w + WIDTH - vw, h + HEIGHT - vh)
    return drv


def displayed(drv, css):
    return [e for e in drv.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def wait_until(what, fn, seconds):
    deadline = time.monotonic() + float(seconds)
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except WebDriverException as e:   # element went away while we looked
            last = e
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %ss waiting for %s%s" % (seconds, what, " (%s)" % last.msg if last else ""))
        time.sleep(0.1)


def first(drv, css):
    found = drv.find_elements(By.CSS_SELECTOR, css)
    if not found:
        raise LookupError("no element matches %s" % css)
    return found[0]


def run(drv, cmd, args):
    if cmd == "open":
        drv.get(args[0])
        return True
    if cmd == "wait":
        wait_until(args[0], lambda: displayed(drv, args[0]), args[1] if len(args) > 1 else 15)
        return True
    if cmd == "wait-gone":
        wait_until("%s to go" % args[0], lambda: not displayed(drv, args[0]), args[1] if len(args) > 1 else 15)
        return True
    if cmd == "wait-text":
        css, text = args[0], args[1]
        return wait_until("%r in %s" % (text, css),
                          lambda: next((e.text for e in drv.find_elements(By.CSS_SELECTOR, css) if text in e.text), None),
                          args[2] if len(args) > 2 else 15)
    if cmd == "text":
        return first(drv, args[0]).text
    if cmd == "attr":
        return first(drv, args[0]).get_attribute(args[1])
    if cmd == "attrs":
        return [e.get_attribute(args[1]) for e in drv.find_elements(By.CSS_SELECTOR, args[0])]
    if cmd == "count":
        return len(drv.find_elements(By.CSS_SELECTOR, args[0]))
    if cmd == "click":
        e = wait_until(args[0], lambda: displayed(drv, args[0]), 15)[0]
        e.click()
        return True
    if cmd == "click-all":
        found = displayed(drv, args[0])
        for e in found:
            e.click()
        return len(found)
    if cmd == "select":
        Select(first(drv, args[0])).select_by_value(args[1])
        return True
    if cmd == "type":
        e = first(drv, args[0])
        e.clear()
        e.send_keys(args[1])
        return True
    if cmd == "check":
        e = first(drv, args[0])
        if e.is_selected() != (args[1] == "true"):
            e.click()
        return True
    if cmd == "screenshot":
        if not drv.save_screenshot(args[0]):
            raise OSError("could not write %s" % args[0])
        return args[0]
    if cmd == "console":
        return [entry["message"] for entry in drv.get_log("browser")]
    raise ValueError("unknown command %r" % cmd)


def main():
    drv = start()
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                req = json.loads(line)
                if req[0] == "quit":
                    print(json.dumps({"ok": True, "value": True}), flush=True)
                    break
                answer = {"ok": True, "value": run(drv, req[0], [str(a) for a in req[1:]])}
            except Exception as e:      # every failure is an answer, never a hang
                answer = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            print(json.dumps(answer), flush=True)
    finally:
        drv.quit()


if __name__ == "__main__":
    main()
