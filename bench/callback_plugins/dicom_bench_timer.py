# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: per-task wall time, from task start to the last host's result.

Enabled by bench/run.py alone (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED); writes
one JSON list to the file named by DICOM_BENCH_TIMER_OUT when the playbook ends:
[{"name", "action", "start", "end", "seconds", "status"}, ...], times from time.perf_counter()
in the ansible-playbook (controller) process.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: dicom_bench_timer
type: aggregate
short_description: Per-task wall times for bench/run.py
description:
  - Records, for every task, the time from v2_playbook_on_task_start to the last runner result, and writes them
    as JSON to the file named by the environment variable E(DICOM_BENCH_TIMER_OUT) when the playbook ends.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dicom_bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []
        self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.perf_counter()
        self._close(now)
        self._current = {"name": task.get_name(), "action": task.action, "start": now, "end": None,
                         "seconds": None, "status": None}
        self._tasks.append(self._current)

    def _result(self, status):
        if self._current is not None:
            self._current["end"] = time.perf_counter()
            self._current["status"] = status

    def v2_runner_on_ok(self, result):
        self._result("ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed")

    def v2_runner_on_skipped(self, result):
        self._result("skipped")

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable")

    def _close(self, now):
        current = self._current
        if current is not None and current["end"] is not None:
            current["seconds"] = current["end"] - current["start"]
        self._current = None

    def v2_playbook_on_stats(self, stats):
        self._close(time.perf_counter())
        target = os.environ.get("DICOM_BENCH_TIMER_OUT")
        if target:
            with open(target, "w", encoding="utf-8") as handle:
                json.dump(self._tasks, handle)
