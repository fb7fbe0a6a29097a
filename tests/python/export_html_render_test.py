#!/usr/bin/env python3
"""Renders the HTML export in headless Chromium and checks what a customer would see.

The pages come from consentry_report_sample: one with hostile and non-ASCII values, one with the
policy's labels (what a customer of a labelled policy sees). Chromium must be
installed (/usr/bin/chromium, or $CHROMIUM): a missing browser fails this test, it does not
skip it. Chromium runs with networking features off and every host name unresolvable, so the
page can only render from what it holds.

Usage: export_html_render_test.py PATH_TO_consentry_report_sample [SCREENSHOT.png]
With SCREENSHOT.png, the labelled page's screenshot is also written there (docs/export.png in
the README is made so). Exits 0 when every check passes, 1 otherwise.
"""
import html.parser
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

TIMEOUT = 60


class Dom(html.parser.HTMLParser):
    """Collects the element names, attributes and visible text of a serialised DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.attrs = []
        self.text = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)
        if tag in ("style", "title", "head"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title", "head") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def chromium_flags(profile):
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}"]


def run_chromium(browser, args, scratch, name):
    with tempfile.TemporaryDirectory(dir=scratch, prefix=f"profile-{name}-") as profile:
        # Chromium writes noise to stderr; only its exit code and its outputs are checked.
        return subprocess.run([browser, *chromium_flags(profile), *args], capture_output=True,
                              timeout=TIMEOUT, check=False, cwd=scratch)


# MEASURE is added to a copy of the labelled page (the export itself has no script): it records
# the page's layout in attributes of <body>, which --dump-dom then shows.
MEASURE = b"""<script>
const root = document.documentElement;
let right = 0;
for (const t of document.querySelectorAll("table")) right = Math.max(right, t.getBoundingClientRect().right);
document.body.setAttribute("data-scroll-width", String(root.scrollWidth));
document.body.setAttribute("data-client-width", String(root.clientWidth));
document.body.setAttribute("data-table-right", String(Math.ceil(right)));
document.body.setAttribute("data-access-rows", String(document.querySelectorAll("#accesses + table tbody tr").length));
</script>
</body>"""


def check_labelled(tool, browser, scratch_path, screenshot_out, failures):
    """The labelled page: labels, plain words, one row per access, wrapping at a narrow width."""
    page = subprocess.run([tool, "html-labelled"], capture_output=True, timeout=TIMEOUT, check=False)
    if page.returncode != 0:
        failures.append(f"{tool} html-labelled: exit {page.returncode}")
        return
    measured = scratch_path / "labelled-measured.html"
    measured.write_bytes(page.stdout.replace(b"</body>", MEASURE, 1))
    # A desktop window and a phone's: at each, nothing may scroll sideways.
    for width in (1000, 700, 380):
        dump = run_chromium(browser, ["--dump-dom", f"--window-size={width},1000", measured.as_uri()],
                            str(scratch_path), f"labelled-{width}")
        if dump.returncode != 0:
            failures.append(f"labelled --dump-dom at {width}px: exit {dump.returncode}")
            return
        check_labelled_dom(dump.stdout.decode("utf-8", errors="replace"), width, failures)
    if screenshot_out:
        shot = run_chromium(browser, [f"--screenshot={screenshot_out}", "--window-size=1000,1500",
                                      "--hide-scrollbars", measured.as_uri()], str(scratch_path), "readme")
        if shot.returncode != 0:
            failures.append(f"labelled --screenshot: exit {shot.returncode}")


def check_labelled_dom(dom_text, width, failures):
    """Checks one rendering of the labelled page at `width` pixels."""
    dom = Dom()
    dom.feed(dom_text)
    text = " ".join(" ".join(dom.text).split())
    for visible in ["Email address", "Date of birth", "Offers by email", "The newsletter tool", "Our support team",
                    "A credit reference agency", "2 April 1990",
                    "Refused, because you had not agreed to this use."]:
        if visible not in text:
            failures.append(f"labelled page at {width}px: visible text lacks {visible!r}")
    for hidden in ["birth_date", "marketing.email", "email-campaigns", "credit-bureau", "no_consent",
                   "accessor_not_registered", "1990-04-02", "(we held none)"]:
        if hidden in text:
            failures.append(f"labelled page at {width}px: visible text shows the id or code {hidden!r}")
    body = {name: value for tag, name, value in dom.attrs if tag == "body"}
    try:
        scroll, client = int(body["data-scroll-width"]), int(body["data-client-width"])
        table_right, rows = int(body["data-table-right"]), int(body["data-access-rows"])
    except (KeyError, ValueError):
        failures.append(f"labelled page at {width}px: the layout was not measured: {body}")
        return
    # A 304-character value with nowhere to break wraps inside its cell: nothing scrolls sideways.
    if scroll > client or table_right > client:
        failures.append(f"labelled page at {width}px: wider than the window ({scroll}px, tables to {table_right}px, "
                        f"window {client}px)")
    # Six log entries: a view opened then read is one row, so five rows.
    if rows != 5:
        failures.append(f"labelled page at {width}px: {rows} access rows, expected 5 (opened and read merged)")


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    tool = sys.argv[1]
    screenshot_out = pathlib.Path(sys.argv[2]).resolve() if len(sys.argv) == 3 else None
    browser = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(browser) and os.access(browser, os.X_OK)):
        print(f"FAIL chromium not found at {browser}: install it (scripts/install-deps.sh does)", file=sys.stderr)
        return 1

    page = subprocess.run([tool, "html"], capture_output=True, timeout=TIMEOUT, check=False)
    if page.returncode != 0:
        print(f"FAIL {tool} html: exit {page.returncode}", file=sys.stderr)
        return 1
    failures = []

    with tempfile.TemporaryDirectory(prefix="consentry-html-render-") as scratch:
        scratch_path = pathlib.Path(scratch)
        html_file = scratch_path / "export.html"
        html_file.write_bytes(page.stdout)
        url = html_file.as_uri()

        dump = run_chromium(browser, ["--dump-dom", url], scratch, "dom")
        if dump.returncode != 0:
            failures.append(f"--dump-dom: exit {dump.returncode}: {dump.stderr.decode(errors='replace')[-800:]}")
        dom_text = dump.stdout.decode("utf-8", errors="replace")
        dom = Dom()
        dom.feed(dom_text)
        text = " ".join(" ".join(dom.text).split())

        if "h1" not in dom.tags or "table" not in dom.tags:
            failures.append("the rendered DOM has no <h1> or no <table>")
        for heading in ["What we hold about you", "Why we use it", "Your consents", "Who looked at your data",
                        "Your rights", "Your data held by Acme Retail & Söhne Ltd"]:
            if heading not in text:
                failures.append(f"visible text lacks the heading {heading!r}")
        for visible in ["ann@example.com", "Zoë Ångström-Łukasiewicz 山田", "privacy@acme.example",
                        "inferred (we guessed this from: birth date)", "from a third party: credit-bureau",
                        "1 May 2025, 10:00 UTC",
                        # The hostile values are shown as text, not run as markup.
                        "<script>alert(1)</script>", '"><img src=x onerror=alert(2)>',
                        "</title><img src=x onerror=alert(3)>"]:
            if visible not in text:
                failures.append(f"visible text lacks {visible!r}")
        for tag in ("script", "img", "iframe", "object", "embed", "link"):
            if tag in dom.tags:
                failures.append(f"the rendered DOM has a <{tag}> element")
        for tag, name, value in dom.attrs:
            if name.startswith("on") or name in ("src", "style"):
                failures.append(f"the rendered DOM has <{tag} {name}={value!r}>")
            if name == "href" and not value.startswith("mailto:"):
                failures.append(f"the rendered DOM links outside the page: {value!r}")
        if ("a", "href", "mailto:privacy@acme.example") not in dom.attrs:
            failures.append("the controller contact is not a mailto: link")

        shot = scratch_path / "export.png"
        run = run_chromium(browser, [f"--screenshot={shot}", "--window-size=1200,2000", "--hide-scrollbars",
                                     url], scratch, "shot")
        if run.returncode != 0:
            failures.append(f"--screenshot: exit {run.returncode}: {run.stderr.decode(errors='replace')[-800:]}")
        png = shot.read_bytes() if shot.exists() else b""
        if len(png) < 1000 or not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
            failures.append(f"--screenshot: no PNG written ({len(png)} bytes)")
        else:
            width, height = struct.unpack(">II", png[16:24])
            if (width, height) != (1200, 2000):
                failures.append(f"--screenshot: {width}x{height}, expected 1200x2000")

        check_labelled(tool, browser, scratch_path, screenshot_out, failures)

    for failure in failures:
        print("FAIL", failure, file=sys.stderr)
    if failures:
        return 1
    print(f"export html: rendered by {browser}; {len(dom.tags)} elements, screenshot {len(png)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
