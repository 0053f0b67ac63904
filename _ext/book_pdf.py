"""The whole book as one PDF: ``make pdf`` (``python _ext/book_pdf.py``).

The route: Sphinx's single-page HTML builder puts every page of the book into one HTML
file from the build's executed notebooks (the jupyter-cache that ``make book`` filled:
nothing is executed again), and headless Chromium, the browser the tests already use,
prints it. MathJax typesets the formulas before printing, as on the site.

The PDF has a title page, the table of contents with page numbers, the numbered
chapters with their sections, figures, captions and equations, the exercises with their
solutions unfolded, the bibliography, the PDF outline (bookmarks) and page numbers in
every footer. Page numbers in the table of contents take two printings: the first finds
on which page each chapter starts (``pdftotext``), the second prints them.

As a Sphinx extension (loaded by ``_config.yml``) this module lets the single-page
builder render what ``sphinx-jupyterbook-latex`` leaves in the document tree, adds the
print style to that build only, and puts "Book PDF" into every page's download menu.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
PDF_NAME = "book.pdf"
PDF_PATH = ROOT / "_build" / "pdf" / PDF_NAME
PRINT_STYLE = "book_print.css"


# --- the Sphinx extension ---------------------------------------------------------------

def add_print_style(app) -> None:
    if app.builder.name == "singlehtml":
        app.add_css_file(PRINT_STYLE)


def add_pdf_download(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A "Book PDF" entry in the download menu of every page (the file ``make pdf`` puts beside the site)."""
    if app.builder.name != "html":
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](PDF_NAME, 1),
                "text": "Book PDF",
                "tooltip": "The whole book as one PDF",
                "icon": "fas fa-book",
                "label": "download-book-pdf-button",
            })


def setup(app) -> dict:
    from sphinx_jupyterbook_latex.nodes import HiddenCellNode, RootHeader, visit_HiddenCellNode

    # sphinx-jupyterbook-latex registers its nodes for the "html" builder only; the
    # single-page builder renders them the same way
    app.add_node(HiddenCellNode, override=True, singlehtml=(visit_HiddenCellNode, None))
    from sphinx_jupyterbook_latex.nodes import depart_RootHeader, visit_RootHeader

    app.add_node(RootHeader, override=True, singlehtml=(visit_RootHeader, depart_RootHeader))
    app.connect("builder-inited", add_print_style)
    # after sphinx-book-theme has built its download menu (priority 501)
    app.connect("html-page-context", add_pdf_download, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- printing -----------------------------------------------------------------------------

def single_page() -> Path:
    """The single page: the root document's file (``index.html`` only redirects to it)."""
    import yaml

    return SINGLE / f"{yaml.safe_load((ROOT / '_toc.yml').read_text())['root']}.html"


def build_single_page(python: Path) -> Path:
    """Build the single-page HTML of the book into ``_build/singlehtml``; return the page."""
    jupyter_book = python.with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--builder", "singlehtml", "--warningiserror", "--nitpick",
               "--keep-going"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the single-page build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return single_page()


PREPARE_PAGE = """
const facts = arguments[0];
const article = document.querySelector('article.bd-article') || document.body;
const clean = h => { const c = h.cloneNode(true); c.querySelectorAll('.headerlink').forEach(e => e.remove());
                     return c.textContent.trim(); };
// the table of contents: every chapter and page after the intro, with its sections
const toc = document.createElement('section');
toc.className = 'book-toc';
toc.innerHTML = '<h2>Contents</h2>';
const list = document.createElement('ul');
const entry = (target, text) => {
  const li = document.createElement('li');
  li.innerHTML = '<span class="entry"><a></a><span class="dots"></span><span class="toc-page"></span></span>';
  li.querySelector('a').href = '#' + target.id;
  li.querySelector('a').textContent = text;
  li.dataset.heading = text;
  return li;
};
// chapters are the h4 headings of the inlined pages, their sections the h5 ones (found in
// document order: a page's output HTML can leave its sections nested oddly)
let sections = null;
document.querySelectorAll('div.toctree-wrapper h4, div.toctree-wrapper h5').forEach(heading => {
  const target = heading.closest('section') || heading;
  if (heading.tagName === 'H4') {
    const li = entry(target, clean(heading));
    li.classList.add('chapter');
    sections = document.createElement('ul');
    li.appendChild(sections);
    list.appendChild(li);
  } else if (sections) {
    sections.appendChild(entry(target, clean(heading)));
  }
});
toc.appendChild(list);
const end = document.createElement('p');
end.className = 'toc-end';
end.textContent = facts.contents_end;
toc.appendChild(end);
// the title page, then the contents
const title = document.createElement('section');
title.className = 'book-title-page';
title.innerHTML = `<p class="book-title">${facts.title}</p><p class="subtitle">${facts.subtitle}</p>
  <p class="authors">${facts.author}</p><p class="edition">${facts.edition}</p>
  <p class="licence">${facts.licence}</p>`;
article.prepend(toc);
article.prepend(title);
// every folded solution and hidden cell opened, every toggle button gone
document.querySelectorAll('details').forEach(d => d.open = true);
document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
document.querySelectorAll('button.toggle-button').forEach(e => e.remove());
return Array.from(toc.querySelectorAll('li')).map(li => li.dataset.heading);
"""

TOC_PAGES = """
// write the page numbers into the table of contents, in its order
const pages = arguments[0];
document.querySelectorAll('section.book-toc li').forEach((li, i) => {
  li.querySelector(':scope > .entry > .toc-page').textContent = pages[i] || '';
});
"""

READY = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images).map(img => img.complete ? Promise.resolve()
  : new Promise(r => { img.onload = r; img.onerror = r; }));
const math = window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => MathJax.typesetPromise()) : Promise.resolve();
Promise.all([math, ...images]).then(() => done(true), e => done(String(e)));
"""

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="pageNumber"></span></div>')


def print_pdf(driver) -> bytes:
    result = driver.execute_cdp_cmd("Page.printToPDF", {
        "paperWidth": 8.27, "paperHeight": 11.69,  # A4, in inches
        "marginTop": 0.8, "marginBottom": 0.8, "marginLeft": 0.8, "marginRight": 0.8,
        "printBackground": True, "displayHeaderFooter": True,
        "headerTemplate": "<div></div>", "footerTemplate": FOOTER,
        "generateDocumentOutline": True,
    })
    return base64.b64decode(result["data"])


def heading_pages(pdf: Path, headings: list[str]) -> list[int | None]:
    """The page on which each heading, in the order of the book, is printed.

    Each is looked for from the page of the one before it on, so that a heading that is
    also a phrase in the text ("Overview") is found where the book reaches it, and after
    the table of contents, which lists them all.
    """
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    flat = [" ".join(text.split()) for text in pages]
    contents_end = next((number for number, text in enumerate(flat) if CONTENTS_END in text), 0)
    found, page = [], contents_end + 1
    for heading in headings:
        text = " ".join(heading.split())
        where = next((number for number in range(page, len(flat)) if text in flat[number]), None)
        found.append(None if where is None else where + 1)
        page = where if where is not None else page
    return found


CONTENTS_END = "Each entry is a link to its page in this PDF."


def book_facts(commit: str) -> dict[str, str]:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    today = datetime.now(timezone.utc).strftime("%d %B %Y")
    return {
        "title": config["title"],
        "subtitle": "An executable lecture book with NumPyro and Pyro",
        "author": config["author"],
        "edition": f"Printed from the site built on {today}, commit {commit}. Every number in it was computed by "
                   "the code shown beside it when the book was built.",
        "licence": "Text and figures: CC BY 4.0. Code: MIT. See LICENSE in the book's repository.",
        "contents_end": CONTENTS_END,
    }


def make_pdf(index: Path, out: Path, commit: str) -> Path:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--allow-file-access-from-files"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.set_script_timeout(300)
        driver.get(index.as_uri())
        headings = driver.execute_script(PREPARE_PAGE, book_facts(commit))
        ready = driver.execute_async_script(READY)
        if ready is not True:
            sys.exit(f"the page did not finish typesetting: {ready}")
        # print with a placeholder in every page-number slot, find each heading's page, print again
        driver.execute_script(TOC_PAGES, ["000"] * len(headings))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(print_pdf(driver))
        pages = heading_pages(out, headings)
        missing = [heading for heading, page in zip(headings, pages) if page is None]
        if missing:
            sys.exit(f"headings not found in the printed book: {missing}")
        driver.execute_script(TOC_PAGES, [str(page) for page in pages])
        out.write_bytes(print_pdf(driver))
    finally:
        driver.quit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PDF_PATH, help=f"where to write the PDF (default {PDF_PATH})")
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml")
    arguments = parser.parse_args()
    for tool in ("chromium", "chromedriver", "pdftotext"):
        if not (shutil.which(tool) or (tool == "chromium" and shutil.which("chromium-browser"))):
            sys.exit(f"make pdf needs {tool} (Debian: apt-get install chromium chromium-driver poppler-utils)")
    start = time.perf_counter()
    index = single_page() if arguments.no_build else build_single_page(Path(sys.executable))
    built = time.perf_counter()
    sys.path.insert(0, str(ROOT / "_ext"))
    from page_facts import build_commit

    out = make_pdf(index, arguments.out, build_commit(ROOT))
    site = ROOT / "_build" / "html"
    if site.is_dir():
        shutil.copyfile(out, site / PDF_NAME)
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: single-page build "
          f"{built - start:.0f} s, printing {time.perf_counter() - built:.0f} s"
          + (f"; copied to {(site / PDF_NAME).relative_to(ROOT)}" if site.is_dir() else ""))


if __name__ == "__main__":
    main()
