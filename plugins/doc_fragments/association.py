# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Association options shared by the dicom_echo module and the transfer_syntaxes lookup.

    The values are validated by plugins/module_utils/_request.py (OPTIONS); keep both in step.
    """

    DOCUMENTATION = r"""
options:
  port:
    description:
      - TCP port of the peer (echoscu's second parameter).
    type: int
    default: 104
  ip_protocol:
    description:
      - Address family used to resolve the peer's host name (echoscu C(-i4), C(-i6), C(-i0)).
      - V(ipv4) resolves IPv4 addresses only, V(ipv6) IPv6 only, V(auto) lets the resolver decide and tries each address in turn.
      - An IP literal is always used as given.
    type: str
    choices: [ipv4, ipv6, auto]
    default: ipv4
  calling_aet:
    description:
      - Our AE title, the calling AE title of the association (echoscu C(-aet)).
      - 1 to 16 characters of the DICOM AE VR; no backslash, no control characters, not all spaces.
        A longer title is refused, not truncated as echoscu does.
    type: str
    default: ECHOSCU
    aliases: [aetitle]
  called_aet:
    description:
      - The peer's AE title, the called AE title of the association (echoscu C(-aec)). Same rules as O(calling_aet).
    type: str
    default: ANY-SCP
    aliases: [call]
  connection_timeout:
    description:
      - Seconds allowed for the TCP connection (echoscu C(-to)); without it the operating system's connect timeout applies.
    type: int
    aliases: [timeout]
  socket_timeout:
    description:
      - Seconds any read or write may stall once a PDU is under way (echoscu C(-ts)); V(0) means no limit.
      - Without O(dimse_timeout) it also bounds the wait for each C-ECHO response, as in echoscu.
    type: int
    default: 60
  acse_timeout:
    description:
      - Seconds to wait for the answer to the association request and for the release reply (echoscu C(-ta)).
    type: int
    default: 30
  dimse_timeout:
    description:
      - Seconds to wait for each C-ECHO response (echoscu C(-td)). Without it the wait is bounded by O(socket_timeout).
    type: int
  max_pdu:
    description:
      - Our maximum receive PDU size in bytes, 4096 to 131072 (echoscu C(-pdu)). An odd value is lowered by one, as echoscu does.
    type: int
    default: 16384
"""

    # Where controller plugins (the transfer_syntaxes lookup) also read these options, after their direct
    # arguments: extend both dicom.network.association and dicom.network.association.plugins (hashi_vault style).
    PLUGINS = r"""
options:
  port:
    env:
      - name: ANSIBLE_DICOM_PORT
    ini:
      - section: dicom_network
        key: port
    vars:
      - name: ansible_dicom_port
  ip_protocol:
    env:
      - name: ANSIBLE_DICOM_IP_PROTOCOL
    ini:
      - section: dicom_network
        key: ip_protocol
    vars:
      - name: ansible_dicom_ip_protocol
  calling_aet:
    env:
      - name: ANSIBLE_DICOM_CALLING_AET
    ini:
      - section: dicom_network
        key: calling_aet
    vars:
      - name: ansible_dicom_calling_aet
  called_aet:
    env:
      - name: ANSIBLE_DICOM_CALLED_AET
    ini:
      - section: dicom_network
        key: called_aet
    vars:
      - name: ansible_dicom_called_aet
  connection_timeout:
    env:
      - name: ANSIBLE_DICOM_CONNECTION_TIMEOUT
    ini:
      - section: dicom_network
        key: connection_timeout
    vars:
      - name: ansible_dicom_connection_timeout
  socket_timeout:
    env:
      - name: ANSIBLE_DICOM_SOCKET_TIMEOUT
    ini:
      - section: dicom_network
        key: socket_timeout
    vars:
      - name: ansible_dicom_socket_timeout
  acse_timeout:
    env:
      - name: ANSIBLE_DICOM_ACSE_TIMEOUT
    ini:
      - section: dicom_network
        key: acse_timeout
    vars:
      - name: ansible_dicom_acse_timeout
  max_pdu:
    env:
      - name: ANSIBLE_DICOM_MAX_PDU
    ini:
      - section: dicom_network
        key: max_pdu
    vars:
      - name: ansible_dicom_max_pdu
"""
