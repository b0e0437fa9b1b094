#!/usr/bin/env python3
"""The HTML page of `memspace map` in a real browser (headless Chromium).

    map_browser.py MEMSPACE DUMP REGION

Draws DUMP as an HTML page, then has Chromium
  1. load it and dump the DOM: the page's script must have finished
     (body[data-status] is "ok", so window.onerror never fired), Chromium
     must have logged no console message, the number of region boxes the page
     counted must be the number `memspace map` reported, and REGION's box must
     exist, be visible and have a non-zero size (the page measures it when
     its address has #probe=REGION), pointing at it must fill the hover panel
     and highlight every box of REGION, and the zoom-in button must widen
     the picture 1.5 times;
  2. take a screenshot of the page as it opens, which must be a PNG of the
     window's size (MS_MAP_SCREENSHOT=FILE keeps a copy).
The page must not refer to anything outside itself. Exits 77 (skipped) when
Chromium is not installed (scripts/deps.sh installs it).
"""
import html as htmllib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import zlib

WIDTH, HEIGHT = 1280, 800
SKIP = 77


def fail(msg):
    print("map_browser: FAIL: " + msg)
    sys.exit(1)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_browser(browser, profile, args, url):
    cmd = [browser, "--headless=new", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
           "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
           "--window-size=%d,%d" % (WIDTH, HEIGHT)] + args + [url]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                           check=False)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within 120 s: " + " ".join(cmd))
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    if console:
        fail("the page logged to the console:\n" + "\n".join(console))
    if p.returncode != 0:
        fail("chromium exited with %d:\n%s" % (p.returncode, err[-2000:]))
    return out


def png_size(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG file" % path)
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        fail("%s: the first chunk is not IHDR" % path)
    body = data[16:16 + 13]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(b"IHDR" + body) != crc:
        fail("%s: bad IHDR checksum" % path)
    return struct.unpack(">II", body[:8])


def main():
    if len(sys.argv) != 4:
        print("usage: map_browser.py MEMSPACE DUMP REGION", file=sys.stderr)
        return 2
    memspace, dump, region = sys.argv[1:]
    browser = chromium()
    if not browser:
        print("map_browser: SKIPPED: chromium is not installed "
              "(scripts/deps.sh installs the Debian package)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="ms-map-browser-") as tmp:
        page = os.path.join(tmp, "map.html")
        p = subprocess.run([memspace, "map", "--html", page, dump], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        report = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            fail("memspace map exited with %d:\n%s" % (p.returncode, report))
        m = re.search(r"(\d+) regions?,", report)
        if not m:
            fail("memspace map did not report a region count: " + report)
        want_regions = int(m.group(1))

        with open(page, encoding="utf-8") as f:
            html = f.read()
        outside = [u for u in re.findall(r"(?:https?:|file:|//)[^\s\"'<>)]*", html)
                   if u != "http://www.w3.org/2000/svg"]
        if outside or re.search(r"\s(?:src|href)\s*=", html):
            fail("the page refers to something outside itself: %s" % outside[:5])

        url = "file://" + urllib.parse.quote(page) + "#probe=" + urllib.parse.quote(region)
        dom = run_browser(browser, os.path.join(tmp, "profile"), ["--dump-dom"], url)
        body = re.search(r"<body([^>]*)>", dom)
        if not body:
            fail("no <body> in the DOM Chromium dumped")
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1)))
        if attrs.get("data-status") != "ok":
            fail("the page did not initialise: data-status=%r" % attrs.get("data-status"))
        got_regions = int(attrs.get("data-regions", "-1"))
        if got_regions != want_regions:
            fail("the page has %d region boxes, memspace map reported %d"
                 % (got_regions, want_regions))
        probe = attrs.get("data-probe", "").split()
        if len(probe) != 3:
            fail("no box for region %r (data-probe=%r)" % (region, attrs.get("data-probe")))
        w, h, visible = int(probe[0]), int(probe[1]), probe[2]
        if w <= 0 or h <= 0 or visible != "visible":
            fail("region %r: box %dx%d, %s" % (region, w, h, visible))
        # Pointing at the box fills the panel and highlights every box of the region.
        info = htmllib.unescape(attrs.get("data-probe-info", ""))
        if not info.startswith(region + "  ") or " prio " not in info:
            fail("the hover panel says %r" % info)
        boxes = len(re.findall(r'<rect class="region[^>]* data-name="%s"'
                               % re.escape(region), html))
        if int(attrs.get("data-probe-hl", "-1")) != boxes:
            fail("%s boxes highlighted, %d of region %r"
                 % (attrs.get("data-probe-hl"), boxes, region))
        zoom = attrs.get("data-probe-zoom", "").split()
        if len(zoom) != 2 or int(zoom[1]) != int(int(zoom[0]) * 1.5 + 0.5):
            fail("zooming in took the width from %r" % attrs.get("data-probe-zoom"))

        shot = os.path.join(tmp, "map.png")
        run_browser(browser, os.path.join(tmp, "profile"), ["--screenshot=" + shot],
                    url.split("#")[0])
        size = png_size(shot)
        if size != (WIDTH, HEIGHT):
            fail("the screenshot is %dx%d, not %dx%d" % (size + (WIDTH, HEIGHT)))
        keep = os.environ.get("MS_MAP_SCREENSHOT")
        if keep:
            shutil.copyfile(shot, keep)
    print("map_browser: ok: %d region boxes, %r is %dx%d and visible, screenshot %dx%d"
          % (got_regions, region, w, h, WIDTH, HEIGHT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
