# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ts_name and ts_uid filters: transfer syntax UIDs to names and back (documented in ts_name.yml, ts_uid.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.dicom.network.plugins.module_utils._negotiation import NAME_STYLES, resolve_uid, uid_label
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError, kind_of


def _each(value, convert, filter_name):
    if isinstance(value, (list, tuple)):
        return [convert(item) for item in value]
    if value is None:
        return None
    if not isinstance(value, str):
        raise AnsibleFilterError("%s expects a string or a list of strings, got %s" % (filter_name, kind_of(value)))
    return convert(value)


def ts_name(value, style="name"):
    """UID -> pydicom's name (or the DICOM keyword, or DCMTK's dump name); an unknown UID comes back unchanged."""
    if style not in NAME_STYLES:
        raise AnsibleFilterError("dicom.network.ts_name: style must be one of %s, got %r" % (", ".join(NAME_STYLES), style))
    return _each(value, lambda uid: uid if not isinstance(uid, str) else uid_label(uid.strip(), style), "dicom.network.ts_name")


def ts_uid(value, strict=True):
    """Keyword, pydicom name or DCMTK name (or a UID) -> UID; unknown text is an error unless strict=false."""

    def convert(text):
        try:
            return resolve_uid(text, option="dicom.network.ts_uid")
        except RequestError as exc:
            if strict:
                raise AnsibleFilterError(str(exc)) from exc
            return text

    return _each(value, convert, "dicom.network.ts_uid")


class FilterModule:
    """DICOM transfer syntax names."""

    def filters(self):
        return {"ts_name": ts_name, "ts_uid": ts_uid}
