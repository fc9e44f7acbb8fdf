#!/usr/bin/python3
"""Browser test: the HTML report renders in headless Chromium.

    check_report_render.py LATENT_TOOL DATA_DIR WORK_DIR

Runs `latent report` on the bundled encoder latents (with the cross-space
comparison), opens the page in Debian's headless Chromium (no sandbox, no GPU,
background networking off, a throw-away profile), and checks
  * the DOM Chromium built holds the four plots and both tables, and
  * the screenshot is not blank and shows the plots' colours (bars and lines
    were painted, not only text).
Exit 0 pass, 1 fail, 77 skipped (chromium not installed). Standard library only.
"""
import os
import shutil
import struct
import subprocess
import sys
import zlib

BLUE, ORANGE = (0x3B, 0x6E, 0xA8), (0xE0, 0x7B, 0x28)  # report_html.cpp's series colours


def chromium_command():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def decode_png(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    tool, data, work = sys.argv[1:]
    browser = chromium_command()
    if browser is None:
        print("chromium is not installed (apt-get install chromium): browser test skipped")
        return 77
    os.makedirs(work, exist_ok=True)
    html = os.path.join(work, "report.html")
    png = os.path.join(work, "report.png")
    for stale in (html, png):
        if os.path.exists(stale):
            os.remove(stale)
    enc = os.path.join(data, "encoders")
    subprocess.run([tool, "report", os.path.join(enc, "mlp_seed0.npy"), "--labels", os.path.join(enc, "labels.npy"),
                    "--compare", os.path.join(enc, "mlp_seed1.npy"), "--html", html, "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-default-apps", "--disable-sync", "--no-first-run",
             "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + os.path.join(work, "profile"),
             "--window-size=1280,2400"]
    url = "file://" + os.path.abspath(html)
    dom = subprocess.run(flags + ["--dump-dom", url], check=True, capture_output=True, text=True, timeout=180).stdout
    subprocess.run(flags + ["--screenshot=" + png, url], check=True, capture_output=True, timeout=180)

    failures = []
    for needle in ('data-plot="k-occurrence"', 'data-plot="skewness"', 'data-plot="spectrum"', 'data-plot="mrr"',
                   'id="methods"', 'id="comparison"', "Recommended:"):
        if needle not in dom:
            failures.append(f"rendered DOM lacks {needle}")
    if dom.count("<rect") < 50:
        failures.append(f"rendered DOM has only {dom.count('<rect')} SVG rectangles")
    width, height, rows = decode_png(png)
    pixels = width * height
    counts = {"non-white": 0, "blue": 0, "orange": 0}
    for row in rows:
        for r, g, b in row:
            if r < 240 or g < 240 or b < 240:
                counts["non-white"] += 1
            if abs(r - BLUE[0]) + abs(g - BLUE[1]) + abs(b - BLUE[2]) < 30:
                counts["blue"] += 1
            if abs(r - ORANGE[0]) + abs(g - ORANGE[1]) + abs(b - ORANGE[2]) < 30:
                counts["orange"] += 1
    print(f"screenshot {width}x{height}: {counts['non-white']} non-white pixels, {counts['blue']} blue, "
          f"{counts['orange']} orange; DOM {len(dom)} characters, {dom.count('<svg')} svg elements")
    if counts["non-white"] < pixels // 50:
        failures.append("the screenshot is (nearly) blank")
    for colour in ("blue", "orange"):
        if counts[colour] < 1000:
            failures.append(f"the screenshot shows almost no {colour} plot marks")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
