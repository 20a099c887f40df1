# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AnsibleModule of the probe modules (dicom_echo, dicom_find). Private to this collection."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ._request import secret_values


class ProbeModule(AnsibleModule):
    """AnsibleModule that masks the passwords of `endpoints` entries from the moment it has read them.

    Ansible masks only the no_log options it validates itself. The entries of `endpoints` are
    validated by build_requests(), after AnsibleModule.__init__ has already written the arguments to
    syslog/journald ("Invoked with ...") and, when its own argument check fails, returned them in
    invocation.module_args; so their secrets join no_log_values as soon as the arguments are loaded.
    """

    def _load_params(self):
        super()._load_params()
        self.no_log_values.update(secret_values(self.params))
