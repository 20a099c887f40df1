# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Attributes of read-only probe modules."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The probe only reads, so it runs in check mode too and returns the same result.
  diff_mode:
    support: none
  action_group:
    description: Use C(group/dicom.network.dicom) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dicom.network.dicom
"""
