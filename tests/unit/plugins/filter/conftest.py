# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lets these controller tests also run under plain pytest (PYTHONPATH=<dir holding ansible_collections/>).

ansible-test units installs Ansible's collection loader itself; plain pytest does not, and then
lookup_loader cannot find dicom.network.* plugins. Install it here, before the tests import anything.
"""

from __future__ import annotations

import os
import sys

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

if not any(isinstance(finder, _AnsibleCollectionFinder) for finder in sys.meta_path):
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([entry for entry in sys.path if entry and os.path.isdir(os.path.join(entry, "ansible_collections"))])
