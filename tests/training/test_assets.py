"""The built front end carries no GOV.UK branding: no GDS Transport font and no crown or crest.

This service is not on GOV.UK, so it may use GOV.UK Frontend's styles but not the typeface or the
images reserved for GOV.UK. ``make install`` (which ``make test`` runs) builds the styles with
``npm run build``: Sass compiles assets/scss/app.scss into static/build/app.css and
assets/copy-js.mjs copies the scripts.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BUILT_CSS = ROOT / "static" / "build" / "app.css"
GOVUK_FRONTEND = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"

# GOV.UK's font files are named like bold-affa96571d-v2.woff2 and live in assets/fonts/.
GOVUK_FONT_FILE = re.compile(r"/fonts/|\b(?:light|bold)-[0-9a-f]{10}-v\d+\.woff2?", re.IGNORECASE)


def _built_css() -> str:
    if not BUILT_CSS.exists():
        pytest.fail(
            f"{BUILT_CSS.relative_to(ROOT)} is missing: the styles have not been built. "
            "`make test` builds them (through `make install`); by hand, run `npm ci && npm run build`."
        )
    return BUILT_CSS.read_text(encoding="utf-8")


def test_built_css_is_govuk_frontend():
    """The other checks pass trivially on an empty file, so first: this is GOV.UK Frontend's CSS."""
    css = _built_css()
    assert ".govuk-header" in css
    assert ".govuk-footer" in css


def test_built_css_has_no_gds_transport_font():
    css = _built_css()
    assert not re.search(r"gds[\s_-]*transport", css, re.IGNORECASE)
    for rule in re.findall(r"@font-face\s*\{[^}]*\}", css):
        assert not GOVUK_FONT_FILE.search(rule), rule


def test_built_css_draws_no_crest_and_points_only_at_files_we_serve():
    css = _built_css()
    assert "govuk-crest" not in css
    # A url() to a file we do not ship is a 404 in the browser and makes collectstatic's manifest
    # storage fail in production, so every one must resolve to a file in static/.
    for _quote, url in re.findall(r"url\(\s*(['\"]?)(.*?)\1\s*\)", css):
        if url.startswith("data:"):
            continue
        assert url.startswith(settings.STATIC_URL), url
        assert (ROOT / "static" / url.removeprefix(settings.STATIC_URL)).is_file(), url


def test_copy_script_copies_the_scripts_and_no_govuk_images_or_fonts(tmp_path):
    """Runs assets/copy-js.mjs in an empty directory and lists what it wrote."""
    node = shutil.which("node")
    if node is None or not GOVUK_FRONTEND.is_dir():
        pytest.fail(
            "Node.js and node_modules/govuk-frontend are needed to build the front end: "
            "run `make install` (or `npm ci`)."
        )
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    (tmp_path / "assets").symlink_to(ROOT / "assets")

    subprocess.run(  # noqa: S603 - node runs our own script, no shell
        [node, "assets/copy-js.mjs"], cwd=tmp_path, check=True, timeout=60, capture_output=True
    )

    written = {
        str(path.relative_to(tmp_path / "static"))
        for path in (tmp_path / "static").rglob("*")
        if path.is_file()
    }
    assert written == {"build/govuk-frontend.min.js", "build/body-class.js", "build/init.js"}
    # The package does ship them, so leaving them out is the script's doing.
    assert (GOVUK_FRONTEND / "assets" / "images" / "govuk-crest.svg").is_file()
    assert (GOVUK_FRONTEND / "assets" / "images" / "favicon.ico").is_file()


def test_no_template_asks_for_a_govuk_image():
    """The images are not copied, so a template that linked one (a favicon, the crest) would 404."""
    template_dirs = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] + [
        Path(config.path) / "templates" for config in apps.get_app_configs()
    ]
    ours = [d for d in template_dirs if d.is_dir() and d.resolve().is_relative_to(ROOT)]
    assert ours
    for directory in ours:
        for template in directory.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            assert "govuk/assets" not in text, template
            assert "govuk-crest" not in text, template
