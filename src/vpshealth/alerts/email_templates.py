"""The e-mail templates (Jinja2), shipped inside the package under
``vpshealth/resources/templates`` and read with :mod:`importlib.resources`, so they load the
same way from a source tree, a wheel or a PyInstaller bundle (collect the package's data
files: ``--collect-data vpshealth``)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATE_PACKAGE = "vpshealth.resources"
TEMPLATE_FOLDER = "templates"
DIGEST_TEXT = "email_digest.txt.j2"
DIGEST_HTML = "email_digest.html.j2"


def _read_template(name: str) -> str:
    return (resources.files(TEMPLATE_PACKAGE) / TEMPLATE_FOLDER / name).read_text("utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    """HTML templates (``*.html.j2``) are auto-escaped; text templates are not. Jinja2 is
    loaded on the first e-mail, not by every engine that may never send one."""
    import jinja2  # noqa: PLC0415

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_read_template),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, context: dict[str, Any]) -> str:
    return _environment().get_template(name).render(context)
