"""The Content-Security-Policy's allowance for the inline event handlers in templates.

The admin's confirmations (`onsubmit="return confirm('…')"`) are attributes, which a
nonce can't cover. CSP allows such a handler by the hash of its exact text with
'unsafe-hashes'; the hashes are taken from the project's own templates when the settings
load, so a handler a template gains is allowed with it, and one injected into a page
(whose text is in no template) is not. A handler with template tags in it can't be
hashed ahead: `tests/test_ops_csp.py` refuses one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
SKIPPED_DIRECTORIES = {"node_modules", "staticfiles", "__pycache__", "tests", "benchmarks"}


def template_files(root: Path) -> Iterator[Path]:
    """The project's HTML templates under `root`: templates/ and each app's, not what
    lies in hidden folders (.venv, .git) or installed packages."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".") and name not in SKIPPED_DIRECTORIES
        ]
        if "templates" in Path(folder).relative_to(root).parts:
            found += [Path(folder) / name for name in files if name.endswith(".html")]
    yield from sorted(found)


def inline_handlers(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """(template, handler text as the browser reads it) for each inline event handler."""
    for path in paths:
        for match in HANDLER.finditer(path.read_text(encoding="utf-8")):
            yield (
                path,
                html.unescape(match.group(1) if match.group(1) is not None else match.group(2)),
            )


def is_static(handler: str) -> bool:
    return "{{" not in handler and "{%" not in handler


def source_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_handler_hashes(root: Path) -> list[str]:
    """The CSP hash source of each distinct static inline handler under `root`."""
    handlers = {handler for _, handler in inline_handlers(template_files(root))}
    return sorted(source_hash(handler) for handler in handlers if is_static(handler))


def url_origin(url: str) -> str:
    """scheme://host[:port] of `url`, as a CSP source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
