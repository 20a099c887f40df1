# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing the report files: every format by its renderer, each file atomically (a temporary file in
the target directory, then a rename over the final name). Private to this collection; no Ansible imports."""

from __future__ import annotations

import os
import tempfile

from ansible_collections.dicom.network.plugins.plugin_utils._report_html import render_html
from ansible_collections.dicom.network.plugins.plugin_utils._report_metrics import render_openmetrics
from ansible_collections.dicom.network.plugins.plugin_utils._report_render import render_csv, render_json, render_junit, render_markdown
from ansible_collections.dicom.network.plugins.plugin_utils._reports import EXTENSIONS, FORMATS, ReportError

RENDERERS = {"json": render_json, "junit": render_junit, "csv": render_csv, "markdown": render_markdown, "html": render_html,
             "openmetrics": render_openmetrics}


def write_atomic(path, text, mode=0o644):
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never half.

    The data goes to a temporary file in the same directory, is flushed to disk, and replaces the
    target with one rename (atomic on POSIX file systems).
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_reports(report, directory, basename, formats):
    """Render and write every format; returns {format: absolute path}."""
    unknown = [fmt for fmt in formats if fmt not in RENDERERS]
    if unknown:
        raise ReportError("unknown report format %s (known: %s)" % (", ".join(map(repr, unknown)), ", ".join(FORMATS)))
    if not basename or "/" in basename or basename in (".", ".."):
        raise ReportError("the report base name %r must be a plain file name" % (basename,))
    directory = os.path.abspath(os.path.expanduser(directory))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ReportError("report directory %s cannot be created: %s" % (directory, exc)) from None
    paths = {}
    for fmt in formats:
        path = os.path.join(directory, basename + EXTENSIONS[fmt])
        try:
            write_atomic(path, RENDERERS[fmt](report))
        except OSError as exc:
            raise ReportError("report %s cannot be written: %s" % (path, exc)) from None
        paths[fmt] = path
    return paths
