#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dicom_echo
short_description: Send DICOM C-ECHO to one or many peers, as DCMTK echoscu does, and return what happened as data
version_added: 0.1.0
description:
  - Opens a DICOM association, sends C-ECHO (Verification, 1.2.840.10008.1.1) and releases, with the option set of DCMTK C(echoscu).
  - Returns the negotiation (accepted transfer syntax per presentation context, rejection and abort details), the round-trip
    time of every echo, the time of every phase, the transcript in echoscu's format and what C(echoscu) would have exited with.
  - Probes many endpoints concurrently in one task with O(endpoints).
  - It never changes anything (RV(changed) is always false).
  - Where each echoscu option went is listed in the notes below.
author:
  - dicom.network maintainers (@dicom-network)
requirements:
  - Python >= 3.10 on the node that runs the module
  - Nothing else for a plain C-ECHO (the collection codes the few PDUs it needs itself)
  - cryptography >= 42 for O(tls=true) and the offline certificate actions only
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dicom.network.association
  - dicom.network.tls
  - dicom.network.attributes
attributes:
  platform:
    platforms: posix
options:
  host:
    description:
      - The peer, a host name, an IPv4 literal or an IPv6 literal (echoscu's first parameter).
      - Required unless O(endpoints) or an offline action (O(list_profiles), O(list_ciphers), O(verify_cert), O(is_root_cert)) is given;
        O(host) and O(endpoints) are mutually exclusive.
    type: str
    aliases: [peer]
  propose_ts:
    description:
      - Propose the first N transfer syntaxes of echoscu's list in every presentation context (echoscu C(-pts)), 1 to 53.
      - The list is that of DCMTK 3.7.0, in its order, starting with Implicit VR Little Endian, Explicit VR Little Endian,
        Explicit VR Big Endian, Encapsulated Uncompressed Explicit VR Little Endian and JPEG Baseline.
        The echoscu manual page list is incomplete; older DCMTK releases number the list differently.
    type: int
    default: 1
  propose_pc:
    description:
      - Propose N identical Verification presentation contexts, IDs 1, 3, 5, ... (echoscu C(-ppc)), 1 to 128.
    type: int
    default: 1
  repeat:
    description:
      - Send N C-ECHO requests on the association, message IDs 1 to N, stopping at the first failure (echoscu C(--repeat)).
    type: int
    default: 1
  abort:
    description:
      - Abort the association instead of releasing it after the echoes (echoscu C(--abort)).
    type: bool
    default: false
  log_level:
    description:
      - >-
        Which transcript lines RV(log) returns, in echoscu's format (C(I: Requesting Association), ...), the lines at this level and above.
      - V(info) is echoscu C(-v), V(debug) is C(-d) and adds the association dumps, V(fatal) is C(-q); V(trace) adds one line per PDU.
    type: str
    choices: [fatal, error, warn, info, debug, trace]
    default: warn
  log_config:
    description:
      - A Python C(logging.config.fileConfig) file, applied where the module runs (echoscu C(-lc) takes a log4cplus file instead).
      - Every transcript line, at every level, is sent to the logger C(dicom.network.echo) (V(trace) as level 5); the file decides what
        is kept and where it goes. O(log_level) still chooses what RV(log) returns.
      - Each record carries the endpoint's name in the record attribute C(endpoint); a format string that includes
        %(endpoint)s tells the interleaved lines of a batch apart.
    type: path
  endpoints:
    description:
      - Probe many peers in one task instead of O(host). Each entry is a dict with C(host) (required), and optionally
        C(port), C(calling_aet), C(called_aet), C(name) (default C(AET@host:port)), and any of O(ip_protocol), O(propose_ts),
        O(propose_pc), O(connection_timeout), O(socket_timeout), O(acse_timeout), O(dimse_timeout), O(max_pdu), O(repeat),
        O(abort), O(log_level) and the TLS options (O(tls) to O(verify_peer_cert), O(sni) and O(tls_version) included), which override the
        task-level values for that entry.
      - Endpoints with the same TLS options share one TLS context, built and checked once.
      - An entry's O(private_key_password) is kept out of the output (C(invocation), messages, the log sent to syslog) like the
        task-level one; keep such lists out of C(ansible.builtin.set_fact) and loop items, which Ansible prints at C(-v).
      - The task fails if any endpoint fails; every endpoint is probed anyway.
    type: list
    elements: dict
  concurrency:
    description:
      - How many of O(endpoints) are probed at once, 1 to 1024.
    type: int
    default: 64
  facts:
    description:
      - Return RV(ansible_facts.dicom_echo). Set V(false) when the registered result is all you use, for example in large
        batches, where Ansible would otherwise add one fact per endpoint to the host (about 0.15 s per 1,000 endpoints here).
    type: bool
    default: true
  result_detail:
    version_added: 0.2.0
    description:
      - How much each result holds. V(full) returns every key listed under the return values. V(compact) keeps what
        people, the roles and their reports use, for each endpoint C(name), RV(success), RV(msg), RV(outcome), RV(reason),
        RV(echoscu_exit_code), RV(endpoint), RV(rtt_ms), RV(echoes) (every sample, with C(status) and C(rtt_ms) only), RV(timing_ms), RV(timing_source),
        RV(accepted_transfer_syntaxes), RV(checked_at), RV(association) with only C(established), C(rejection), C(abort),
        C(peer_max_pdu), C(peer_implementation_class_uid) and C(peer_implementation_version_name), and RV(tls) with only
        C(version), C(cipher) and the RV(tls.peer_certificate) keys C(subject), C(issuer), C(serial), C(not_before), C(not_after),
        C(days_remaining), C(sha256_fingerprint), C(key_type) and C(key_bits).
      - V(compact) leaves out RV(presentation_contexts) and, unless O(log_level) is V(info), V(debug) or V(trace), RV(log).
        For a plain echo that is about a quarter less JSON per endpoint for Ansible to parse, copy and keep (1.1 instead of
        1.4 kB), more with several presentation contexts or transfer syntaxes (O(propose_pc), O(propose_ts)) or a transcript.
      - The default is V(full) for a single probe and for O(endpoints) alike, so that every result has the same keys whether
        a task probes one peer or many. Large batches set V(compact) (with O(facts=false)), as the roles
        C(dicom.network.pacs_verify) and C(dicom.network.dicom_audit) do.
    type: str
    choices: [full, compact]
    default: full
  list_profiles:
    description:
      - Offline (no network, O(host) not needed), it returns RV(tls_profiles), every O(tls_profile) with DCMTK's description, its TLS versions
        and suites, and whether this machine's OpenSSL can do it (echoscu C(+ph), C(--list-profiles)).
      - It also returns RV(tls_versions), which TLS versions this machine can offer alone with O(tls_version).
    type: bool
    default: false
  list_ciphers:
    description:
      - Offline, it returns RV(tls_ciphers), every ciphersuite DCMTK knows by IANA name with its OpenSSL name and whether this machine's
        OpenSSL can use it (echoscu C(+cc), C(--list-ciphers), which prints only the usable ones).
    type: bool
    default: false
  verify_cert:
    description:
      - Offline check, would this client certificate be accepted with the CA settings O(ca_files), O(ca_dirs), O(crl_files),
        O(crl_check) and O(key_format)? Returns RV(cert_verification); the task fails when it would not (echoscu C(+vc), exit 22).
      - Further certificates in a PEM file are used as intermediates. The check is C(cryptography)'s verifier (no purpose check of
        the leaf, as OpenSSL for C(+vc)) plus the collection's own CRL check; see the notes for where it differs from OpenSSL.
      - echoscu needs C(+tls) or C(+tla) for C(+vc), O(tls) is not needed here.
    type: path
  is_root_cert:
    description:
      - Offline check, is the (first) certificate in this file a valid self-signed root (self-issued, with consistent key identifiers,
        inside its validity period, and with a self-signature that verifies)? Returns RV(root_cert); the task fails when it is not
        (echoscu C(+rc), exit 22).
      - Stricter than DCMTK, which does not verify the self-signature (a root with a corrupted signature passes there);
        RV(echoscu_exit_code) still says what echoscu would return. A missing CA:TRUE is reported in the reason, not failed, as in DCMTK.
    type: path
notes:
  - >-
    Where each echoscu option went.
    C(peer) and C(port) are O(host) and O(port); C(-i4), C(-i6), C(-i0) are O(ip_protocol); C(-aet) is O(calling_aet);
    C(-aec) is O(called_aet); C(-pts) is O(propose_ts); C(-ppc) is O(propose_pc); C(-to) is O(connection_timeout);
    C(-ts) is O(socket_timeout); C(-ta) is O(acse_timeout); C(-td) is O(dimse_timeout); C(-pdu) is O(max_pdu);
    C(--repeat) is O(repeat); C(--abort) is O(abort); C(-q), C(-v), C(-d), C(-ll) are O(log_level); C(-lc) is O(log_config).
    C(--help) is C(ansible-doc dicom.network.dicom_echo), C(--version) is the collection version, C(--arguments) is the
    task result's C(invocation), and C(@file) command files are Ansible vars files.
  - >-
    Failure is honest. The task fails unless the association was established, every C-ECHO returned status 0x0000 and the release
    (or the requested abort) completed. A non-Success status, a peer abort during the echo and a response timeout fail the task
    although echoscu exits 0 for them; RV(echoscu_exit_code) says what echoscu would have returned.
  - Bad option values fail before any network traffic, with a message that names the option.
  - >-
    The module resolves host names itself per O(ip_protocol), sets C(TCP_NODELAY) and C(TCP_QUICKACK) so reported times are the
    network's, and bounds every phase by its timeout, so a peer that stalls in the middle of a PDU cannot hang the task.
  - >-
    Our implementation class UID is a C(2.25.) UUID-derived UID of this collection and our implementation version name is
    C(DICOMNET_010).
  - Run it with C(delegate_to) on a host that can reach the peers; the facts then land on the inventory host of the task.
  - >-
    A large batch. When the task fails, Ansible's default callback prints RV(msg) (ansible-core 2.19 and later on a line of its
    own, C([ERROR]: Task failed: Module failed: ...)), then the whole result on one line, every result of every endpoint included
    (keys in alphabetical order: RV(ansible_facts) first unless O(facts=false), then RV(msg), RV(results), RV(summary)).
    Set O(result_detail=compact) and O(facts=false), register the result with C(failed_when) on RV(results) being undefined (bad input), and fail in a following
    task on RV(summary) with RV(msg), which names the first failed endpoints; the console then shows one short line (see the examples).
  - >-
    What the node that runs the module needs. Python 3.10 or later and nothing else for a plain C-ECHO (the DICOM PDUs are
    the collection's own code). With O(tls), the Python library C(cryptography); without it the task fails before any
    network traffic and says so.
  - >-
    Ansible does not apply the facts of a failed task. To keep RV(ansible_facts.dicom_echo) when a probe fails, use
    C(failed_when: false) and decide with RV(success), or read them from the registered result.
  - 'TLS, option by option. C(-tls), C(+tls key cert), C(+tla): O(tls) with or without O(private_key) and O(certificate).
    C(+ps) (prompt for the key password): not supported, a module cannot prompt; an encrypted key without O(private_key_password)
    fails with a clear message. C(+pw p): O(private_key_password=p). C(-pw): O(private_key_password) set to an empty string.
    C(-pem), C(-der): O(key_format). C(+cf): O(ca_files). C(+cd): O(ca_dirs). C(+crl): O(crl_files). C(+crv): O(crl_check=leaf).
    C(+cra): O(crl_check=chain). C(+pg +pm +py +px +pz +pb +pa +pn): O(tls_profile). C(+cs): O(ciphers). C(+cc): O(list_ciphers).
    C(+ph): O(list_profiles). C(--no-sni): the default (O(sni) unset). C(--request-sni): O(sni). C(+rs): O(seed_file).
    C(+ws): O(write_seed). C(+wf): O(write_seed_file). C(-rc): O(verify_peer_cert=true). C(-ic): O(verify_peer_cert=false).
    C(+vc): O(verify_cert). C(+rc): O(is_root_cert).'
  - TLS follows DCMTK 3.7.0 on Python's C(ssl) module, with OpenSSL security level 0 for every profile, no system trust store, no partial
    chains, no host name check, no session reuse, the profile's TLS versions and TLS 1.2 suites in DCMTK's order, then O(ciphers).
    The per-profile certificate rules of DCMTK 3.7 are applied to our certificate when it is loaded and to the peer's after the
    handshake (a peer RSA key under 2048 bits is refused with V(8996) and V(8996-mod) and warned about otherwise, MD5 signatures
    are always refused, ...); they apply to the peer only with O(verify_peer_cert), as in DCMTK.
  - 'What Python cannot do as DCMTK does, said plainly: TLS 1.3 ciphersuites cannot be chosen, so V(8996-mod) offers OpenSSL''s three
    defaults instead of its five (TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 are missing); the signature algorithms and
    the supported groups are OpenSSL''s defaults, not DCMTK''s lists (DCMTK offers no X25519 but brainpool and secp256k1 curves,
    so a server that only has those would fail here); the peer''s certificate rules of DCMTK 3.7 are checked on its leaf only,
    after the handshake, not on every certificate of the chain during it; OpenSSL 3 seeds its random generator itself, so O(seed_file) only adds entropy and
    O(write_seed) writes fresh random bytes, as OpenSSL''s RAND_write_file does; no ALPN is offered (DCMTK 3.6.8 and later offer
    C(dicom)).'
  - Stricter than echoscu on purpose, so a typo cannot turn into a silent security change. A missing or unreadable O(ca_files),
    O(ca_dirs) or O(crl_files) entry is an error (echoscu warns and ignores it, and 3.6.7 then fails every verification); the
    TLS options other than O(tls) are accepted without O(tls) and ignored (echoscu refuses them), so they can be set for a
    whole group of endpoints; a TLS failure is reported with OpenSSL's precise reason as well as DCMTK's condition text.
  - The TLS handshake is bounded by the smaller of O(connection_timeout) and O(socket_timeout) (0 = none); when neither bounds
    it, by 60 seconds. A failed handshake is outcome V(tls_error) with exit code 1; so is a TLS alert right after it, such as
    a peer refusing our certificate (echoscu 3.6.7 reports that as a TCP I/O error).
  - O(verify_cert) uses C(cryptography), which is stricter than OpenSSL in places. It refuses SHA-1 signed and X.509 v1 leaves
    and unusual CA extensions that OpenSSL accepts at security level 0; it checks no key usage of the leaf (neither does OpenSSL
    for C(+vc)). RV(echoscu_exit_code) is 0 when it passes and 22 when it does not.
seealso:
  - name: DCMTK echoscu
    description: The reference behaviour.
    link: https://support.dcmtk.org/docs/echoscu.html
"""

EXAMPLES = r"""
- name: Echo the archive
  dicom.network.dicom_echo:
    host: pacs1.example.org
    port: 104
    called_aet: ARCHIVE

- name: Echo three times with a response deadline, print the echoscu -v transcript
  dicom.network.dicom_echo:
    host: 10.0.0.5
    called_aet: STORESCP
    repeat: 3
    dimse_timeout: 5
    log_level: info
  register: echo

- name: Show the accepted transfer syntax of every presentation context
  ansible.builtin.debug:
    msg: "{{ echo.presentation_contexts | map(attribute='transfer_syntax_name') }}"

- name: A wrong AE title must be refused (negative check)
  dicom.network.dicom_echo:
    host: pacs1.example.org
    called_aet: NOT-ARCHIVE
  register: wrong_aet
  failed_when: wrong_aet.outcome != 'association_rejected'

- name: Probe every modality of the department in one task
  dicom.network.dicom_echo:
    endpoints:
      - {name: ct1, host: ct1.example.org, called_aet: CT1}
      - {name: mr1, host: mr1.example.org, called_aet: MR1, port: 11112}
      - {host: "fd00::5", called_aet: US1, ip_protocol: ipv6}
    connection_timeout: 3
    acse_timeout: 5
  register: fleet
  ignore_errors: true

- name: List the endpoints that failed
  ansible.builtin.debug:
    msg: "{{ fleet.results | rejectattr('success') | map(attribute='msg') }}"

- name: Probe 10,000 endpoints, keep what the reports need, print one line
  dicom.network.dicom_echo:
    endpoints: "{{ all_endpoints }}"
    result_detail: compact
    facts: false
  register: everything
  failed_when: everything.results is not defined  # only bad input fails here

- name: Fail with the batch message, which names the first failed endpoints
  ansible.builtin.fail:
    msg: "{{ everything.msg }}"
  when: everything.summary.failed > 0
"""

RETURN = r"""
changed:
  description: Always false, the module only reads.
  returned: always
  type: bool
success:
  description: Whether the association was established, every echo returned Success and the release (or abort) completed.
  returned: always (one probe)
  type: bool
msg:
  description:
    - "One line saying what happened, for example C(C-ECHO to STORESCP@10.0.0.5:104 succeeded: 1/1 echoes, 0.41 ms)."
    - "With O(endpoints), the counts; when endpoints failed, also the counts by outcome and the first five failed endpoints
      by name, each with its outcome; RV(results) has them all."
    - "For example: C-ECHO to 50 endpoints: 48 succeeded, 2 failed (association_rejected: 1, connection_refused: 1).
      Failed: ct1 (connection_refused), mr1 (association_rejected)"
  returned: always
  type: str
outcome:
  description:
    - The classified outcome, one of V(success), V(dns_error), V(connection_refused), V(connect_timeout), V(tls_error),
      V(association_rejected), V(acse_timeout), V(no_acceptable_context), V(peer_aborted), V(dimse_timeout), V(echo_status),
      V(protocol_error), V(release_failed), V(invalid_input), V(internal_error).
    - V(internal_error) is a fault of this collection (the message names the exception); it says nothing about the peer.
  returned: always (one probe)
  type: str
  sample: success
reason:
  description: Why the probe failed, without the endpoint and outcome that RV(msg) adds; null on success.
  returned: always (one probe)
  type: str
echoscu_exit_code:
  description: What DCMTK echoscu 3.7.0 would have exited with for the same outcome (0, 1, 22 or 70).
  returned: always (one probe)
  type: int
  sample: 0
endpoint:
  description: Where the probe went.
  returned: always (one probe)
  type: dict
  contains:
    host:
      description: The host as given.
      type: str
      returned: always
    port:
      description: The port.
      type: int
      returned: always
    address:
      description: The address actually connected to, null when no connection was made.
      type: str
      returned: always
    ip_protocol:
      description: The address family option used.
      type: str
      returned: always
    calling_aet:
      description: Our AE title.
      type: str
      returned: always
    called_aet:
      description: The peer's AE title as called.
      type: str
      returned: always
association:
  description: The association as negotiated.
  returned: always (one probe)
  type: dict
  contains:
    established:
      description: Whether the peer accepted the association.
      type: bool
      returned: always
    released:
      description: Whether the association was released with A-RELEASE.
      type: bool
      returned: always
    aborted_by:
      description: V(us) or V(peer) when the association ended in an A-ABORT, else null.
      type: str
      returned: always
    rejection:
      description:
        - The A-ASSOCIATE-RJ as numbers (C(result), C(source), C(reason)) and echoscu's texts (C(result_text), C(source_text),
          C(reason_text)), or null.
      type: dict
      returned: always
    abort:
      description: The peer's A-ABORT, C(source) and C(reason) as numbers and texts (C(source_text), C(reason_text)), or null.
      type: dict
      returned: always
    our_max_pdu:
      description: The maximum PDU size we announced.
      type: int
      returned: always
    peer_max_pdu:
      description: The peer's maximum PDU size (0 means unlimited), null before an answer.
      type: int
      returned: always
    max_send_pdv:
      description: What echoscu prints as Max Send PDV.
      type: int
      returned: always
    peer_implementation_class_uid:
      description: The peer's implementation class UID.
      type: str
      returned: always
    peer_implementation_version_name:
      description: The peer's implementation version name or null.
      type: str
      returned: always
presentation_contexts:
  description: One entry per proposed presentation context.
  returned: always (one probe) with O(result_detail=full)
  type: list
  elements: dict
  contains:
    id:
      description: The presentation context ID (1, 3, 5, ...).
      type: int
      returned: always
    abstract_syntax:
      description: The abstract syntax UID.
      type: str
      returned: always
    proposed_transfer_syntaxes:
      description: The transfer syntax UIDs proposed.
      type: list
      elements: str
      returned: always
    result:
      description:
        - V(acceptance), V(user-rejection), V(no-reason), V(abstract-syntax-not-supported), V(transfer-syntaxes-not-supported),
          or null when the association was not answered.
      type: str
      returned: always
    transfer_syntax:
      description: The accepted transfer syntax UID or null.
      type: str
      returned: always
    transfer_syntax_name:
      description: Its name or null.
      type: str
      returned: always
accepted_transfer_syntaxes:
  description: The transfer syntax UIDs accepted in any context, in first-seen order.
  returned: always (one probe)
  type: list
  elements: str
echoes:
  description: One entry per C-ECHO sent and answered.
  returned: always (one probe)
  type: list
  elements: dict
  contains:
    message_id:
      description: The message ID.
      type: int
      returned: always
    status:
      description: The DIMSE status (0 is Success).
      type: int
      returned: always
    status_text:
      description: The status in words.
      type: str
      returned: always
    rtt_ms:
      description: Milliseconds from sending the request to the arrival of the whole response (see RV(timing_source)).
      type: float
      returned: always
rtt_ms:
  description: C(min), C(median), C(avg), C(max), C(stdev) of the echoes' round-trip times in milliseconds, null without an echo.
  returned: always (one probe)
  type: dict
timing_ms:
  description:
    - Milliseconds per phase, C(resolve), C(connect), C(tls_handshake), C(associate), C(echo), C(release) (or the abort), C(total);
      null for a phase that did not run.
    - C(associate) and C(release) run from our request to the arrival of the answer, C(connect) is the kernel's round trip of the
      TCP handshake where RV(timing_source) is V(kernel); C(resolve), C(tls_handshake), C(echo) (all echoes) and C(total) are wall
      time of the whole step.
  returned: always (one probe)
  type: dict
timing_source:
  description:
    - What the round trips are based on. V(kernel) - the arrival time is the kernel's receive timestamp of the answer (Linux, plain
      TCP), so a reply that waited for a busy event loop is not counted. V(user) - the time the answer was read in user space
      (TLS, where the record layer sits between, or a platform without receive timestamps). Null when no connection was made.
  returned: always (one probe)
  type: str
  sample: kernel
tls:
  description: The TLS session; null while TLS is not in use or when the handshake failed.
  returned: always (one probe)
  type: dict
  contains:
    version: {description: The TLS version negotiated (OpenSSL's name)., type: str, returned: always, sample: TLSv1.3}
    cipher: {description: 'The ciphersuite negotiated (OpenSSL''s name, as echoscu prints it).', type: str, returned: always, sample: TLS_AES_256_GCM_SHA384}
    cipher_iana: {description: 'Its IANA name, null when unknown.', type: str, returned: always}
    encryption_bits: {description: The cipher's secret bits (0 for NULL suites)., type: int, returned: always}
    profile: {description: The O(tls_profile) used., type: str, returned: always}
    sni: {description: The SNI name sent or null., type: str, returned: always}
    client_certificate: {description: Whether we presented a certificate (echoscu C(+tls)) rather than none (C(+tla))., type: bool, returned: always}
    peer_verified: {description: Whether the peer's certificate was verified (O(verify_peer_cert))., type: bool, returned: always}
    peer_certificate:
      description: The peer's certificate, null if it sent none.
      type: dict
      returned: always
      contains:
        subject: {description: Subject (RFC 4514)., type: str, returned: always, sample: CN=pacs1.example.org}
        issuer: {description: Issuer (RFC 4514)., type: str, returned: always}
        serial: {description: Serial number in hexadecimal., type: str, returned: always}
        not_before: {description: Start of validity (UTC ISO 8601)., type: str, returned: always}
        not_after: {description: End of validity (UTC ISO 8601)., type: str, returned: always}
        days_remaining: {description: 'Whole days until C(not_after), negative once expired.', type: int, returned: always}
        sha256_fingerprint: {description: 'SHA-256 of the DER certificate, colon-separated hex.', type: str, returned: always}
        key_type: {description: 'V(RSA), V(EC), V(DSA), V(Ed25519) or V(Ed448).', type: str, returned: always}
        key_bits: {description: Key size in bits., type: int, returned: always}
        signature_algorithm: {description: 'The hash of the certificate''s signature (V(sha256), ...), null for Ed25519/Ed448.', type: str, returned: always}
        self_signed: {description: Whether subject and issuer are the same., type: bool, returned: always}
tls_profiles:
  description: With O(list_profiles), one entry per O(tls_profile).
  returned: with list_profiles
  type: list
  elements: dict
  contains:
    name: {description: The O(tls_profile) value., type: str, returned: always}
    description: {description: DCMTK's name of the profile., type: str, returned: always}
    echoscu_option: {description: The echoscu option., type: str, returned: always}
    default: {description: Whether it is the default., type: bool, returned: always}
    retired: {description: Whether DCMTK 3.7.0 calls it retired., type: bool, returned: always}
    tls_versions: {description: The TLS versions it may negotiate., type: list, elements: str, returned: always}
    suites: {description: 'DCMTK''s TLS 1.2 (and older) suites of the profile, IANA names, in offer order.', type: list, elements: str, returned: always}
    tls13_suites: {description: The TLS 1.3 suites offered (OpenSSL's defaults) or none., type: list, elements: str, returned: always}
    offered_here: {description: What this machine offers for the profile., type: list, elements: str, returned: always}
    available: {description: Whether this machine's OpenSSL can do it., type: bool, returned: always}
    reason: {description: 'Why not, or null.', type: str, returned: always}
    note: {description: 'Remarks, such as what Python cannot reproduce.', type: str, returned: always}
tls_versions:
  description: With O(list_profiles), each TLS version and whether this machine's OpenSSL can offer it alone (what O(tls_version) needs).
  returned: with list_profiles
  type: list
  elements: dict
  contains:
    version: {description: 'V(TLSv1), V(TLSv1.1), V(TLSv1.2) or V(TLSv1.3), as O(tls_version) takes it.', type: str, returned: always}
    available: {description: Whether it can be offered here., type: bool, returned: always}
    reason: {description: 'Why not, or null.', type: str, returned: always}
tls_ciphers:
  description: With O(list_ciphers), every ciphersuite DCMTK knows, weakest first.
  returned: with list_ciphers
  type: list
  elements: dict
  contains:
    iana_name: {description: 'The IANA name, as O(ciphers) takes it.', type: str, returned: always}
    openssl_name: {description: OpenSSL's name or null., type: str, returned: always}
    min_tls_version: {description: The lowest TLS version that has it., type: str, returned: always}
    key_exchange: {description: 'DCMTK''s class, V(RSA), V(DH), V(ECDH), V(ECDH_RSA) or V(ECDH_ECDSA).', type: str, returned: always}
    mac: {description: The MAC., type: str, returned: always}
    mode: {description: The cipher mode., type: str, returned: always}
    encryption_bits: {description: Encryption strength in bits., type: int, returned: always}
    usable: {description: Whether this machine's OpenSSL can negotiate it (what echoscu C(+cc) lists)., type: bool, returned: always}
cert_verification:
  description: With O(verify_cert), the verdict.
  returned: with verify_cert
  type: dict
  contains:
    passed: {description: Whether the certificate would be accepted., type: bool, returned: always}
    reason:
      description: Why not, in OpenSSL's words where they exist (C(unable to get local issuer certificate), C(certificate revoked), ...).
      type: str
      returned: always
    subject: {description: The certificate's subject., type: str, returned: always}
    issuer: {description: Its issuer., type: str, returned: always}
    not_after: {description: End of its validity (UTC ISO 8601)., type: str, returned: always}
    chain: {description: 'The verified chain''s subjects, leaf first.', type: list, elements: str, returned: always}
root_cert:
  description: With O(is_root_cert), the verdict.
  returned: with is_root_cert
  type: dict
  contains:
    is_root: {description: 'Self-issued, consistent key identifiers, inside its validity and a valid self-signature.', type: bool, returned: always}
    reason: {description: 'Why not, or a remark about CA:TRUE or keyUsage; null when there is nothing to say.', type: str, returned: always}
    self_signature_valid: {description: Whether the self-signature verifies (null when unreadable)., type: bool, returned: always}
    basic_constraints_ca: {description: 'The basicConstraints CA flag, null without the extension.', type: bool, returned: always}
    key_cert_sign: {description: 'The keyUsage keyCertSign bit, null without the extension.', type: bool, returned: always}
    subject: {description: The certificate's subject., type: str, returned: always}
    not_after: {description: End of its validity., type: str, returned: always}
    echoscu_verdict: {description: What echoscu C(+rc) would say (it does not verify the signature)., type: bool, returned: always}
log:
  description: The transcript at O(log_level) and above, in echoscu's format.
  returned: always (one probe); with O(result_detail=compact) only when O(log_level) is V(info), V(debug) or V(trace)
  type: list
  elements: str
  sample: ["I: Requesting Association", "I: Association Accepted (Max Send PDV: 16372)"]
checked_at:
  description: When the probe ended, UTC ISO 8601.
  returned: always (one probe)
  type: str
  sample: "2026-11-25T11:04:18.123456Z"
results:
  description:
    - With O(endpoints), one dict per endpoint in input order, each with the keys above and C(name).
    - With O(result_detail=compact), each holds the keys that option lists.
  returned: with endpoints
  type: list
  elements: dict
summary:
  description: With O(endpoints), C(total), C(succeeded), C(failed) and C(outcomes) (counts by outcome).
  returned: with endpoints
  type: dict
ansible_facts:
  description: Facts about the probed endpoint(s).
  returned: unless O(facts=false)
  type: dict
  contains:
    dicom_echo:
      description:
        - One probe, C(success), C(outcome), C(endpoint), C(accepted_transfer_syntaxes), C(rtt_ms), C(tls) and C(checked_at) (UTC ISO 8601).
        - With O(endpoints), the same keyed by endpoint name.
      type: dict
      returned: always
"""

import gc

from ansible.module_utils.basic import missing_required_lib

from ..module_utils._probe_module import ProbeModule
from ..module_utils._request import (
    LOG_LEVELS,
    OFFLINE_ACTIONS,
    OPTIONS,
    MissingLibraryError,
    RequestError,
    build_requests,
    module_argument_spec,
    secret_values,
)

FACT_KEYS = ("success", "outcome", "endpoint", "accepted_transfer_syntaxes", "rtt_ms", "tls", "checked_at")

# result_detail: compact keeps what people, the roles and the reports (docs/reports.md) use, and leaves
# out what grows with the request: the presentation context list (accepted_transfer_syntaxes says what
# was accepted), the transcript unless log_level asks for more than warnings, and the rest of the
# association and TLS details.
COMPACT_KEYS = ("name", "success", "msg", "outcome", "reason", "echoscu_exit_code", "endpoint", "rtt_ms", "echoes", "timing_ms",
                "timing_source", "accepted_transfer_syntaxes", "checked_at")
COMPACT_ASSOCIATION = ("established", "rejection", "abort", "peer_max_pdu", "peer_implementation_class_uid",
                       "peer_implementation_version_name")
COMPACT_TLS = ("version", "cipher")
COMPACT_CERTIFICATE = ("subject", "issuer", "serial", "not_before", "not_after", "days_remaining", "sha256_fingerprint",
                       "key_type", "key_bits")
# log_level above the default (info, debug, trace): the transcript was asked for
LOG_ASKED = LOG_LEVELS[LOG_LEVELS.index(OPTIONS["log_level"]["default"]) + 1:]
# How many failed endpoints a batch's msg names (in input order); summary and results have them all.
MSG_FAILED_NAMED = 5


def _facts(result):
    return {key: result[key] for key in FACT_KEYS}


def compact_result(result, log_level):
    """One probe's result as result_detail: compact returns it (a new dict; ``result`` is not changed)."""
    out = {key: result[key] for key in COMPACT_KEYS if key in result}
    # Every sample stays (the latency rule reads them); message_id is its position + 1 and status_text its status's name.
    out["echoes"] = [{"status": echo["status"], "rtt_ms": echo["rtt_ms"]} for echo in result.get("echoes", ())]
    association = result.get("association") or {}
    out["association"] = {key: association.get(key) for key in COMPACT_ASSOCIATION}
    tls = result.get("tls")
    if tls:
        certificate = tls.get("peer_certificate")
        out["tls"] = {key: tls.get(key) for key in COMPACT_TLS}
        out["tls"]["peer_certificate"] = {key: certificate.get(key) for key in COMPACT_CERTIFICATE} if certificate else None
    else:
        out["tls"] = None
    if log_level in LOG_ASKED:
        out["log"] = result.get("log", [])
    return out


def batch_message(results):
    """The batch's one line: counts by outcome, then the first failed endpoints by name with their outcome."""
    failed = [result for result in results if result["outcome"] != "success"]
    msg = "C-ECHO to %d endpoints: %d succeeded, %d failed" % (len(results), len(results) - len(failed), len(failed))
    if not failed:
        return msg
    outcomes = {}
    for result in failed:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    named = ", ".join("%s (%s)" % (result["name"], result["outcome"]) for result in failed[:MSG_FAILED_NAMED])
    more = len(failed) - MSG_FAILED_NAMED
    return "%s (%s). Failed: %s%s" % (msg, ", ".join("%s: %d" % item for item in sorted(outcomes.items())), named,
                                      " and %d more (see results)" % more if more > 0 else "")


def _log_sink(config_file):
    """Route the transcript to Python logging (logger dicom.network.echo), configured by the user's fileConfig file."""
    from ..module_utils._transcript import logging_sink  # pylint: disable=import-outside-toplevel

    return logging_sink(config_file, "dicom.network.echo")


def _offline(module, params):
    """echoscu's exclusive TLS actions: list_profiles, list_ciphers, verify_cert, is_root_cert. No network."""
    from ..module_utils import _tls_errors, _tls_offline  # pylint: disable=import-outside-toplevel

    if params["host"] or params["endpoints"]:
        module.warn("host and endpoints are not probed when an offline action (%s) is given" % ", ".join(OFFLINE_ACTIONS))
    result = {"changed": False, "success": True, "echoscu_exit_code": 0}
    messages = []
    try:
        if params["list_profiles"]:
            result["tls_profiles"] = _tls_offline.list_profiles()
            result["tls_versions"] = _tls_offline.list_tls_versions()
            messages.append("%d of %d TLS profiles available here" % (sum(p["available"] for p in result["tls_profiles"]), len(result["tls_profiles"])))
        if params["list_ciphers"]:
            result["tls_ciphers"] = _tls_offline.list_ciphers()
            messages.append("%d of %d ciphersuites usable here" % (sum(c["usable"] for c in result["tls_ciphers"]), len(result["tls_ciphers"])))
        if params["verify_cert"]:
            check = _tls_offline.verify_certificate(params["verify_cert"], params)
            result["cert_verification"] = check
            if check["passed"]:
                messages.append("Verification of certificate '%s' passed." % params["verify_cert"])
            else:
                messages.append("Verification of certificate '%s' failed: %s" % (params["verify_cert"], check["reason"]))
                result["success"], result["echoscu_exit_code"] = False, 22
        if params["is_root_cert"]:
            check = _tls_offline.root_certificate(params["is_root_cert"], params)
            result["root_cert"] = check
            if check["is_root"]:
                messages.append("Certificate '%s' is a valid, self-signed root CA." % params["is_root_cert"])
            else:
                messages.append("Certificate '%s' is not a valid, self-signed root CA: %s" % (params["is_root_cert"], check["reason"]))
                result["success"] = False
            if not check["echoscu_verdict"]:
                result["echoscu_exit_code"] = 22
    except _tls_errors.TLSOptionError as exc:
        module.fail_json(msg=str(exc), outcome="invalid_input", echoscu_exit_code=1, changed=False)
    result["msg"] = " ".join(messages)
    if result["success"]:
        module.exit_json(**result)
    module.fail_json(**result)


def _write_seeds(module, requests, results):
    """echoscu +ws/+wf: after a run that reached its normal end (exit 0 or 70), write each seed file once."""
    if module.check_mode:
        return
    done = set()
    for request, result in zip(requests, results):
        config = request.tls.config if request.tls is not None else None
        if config is None or config.seed_target is None or config.seed_target in done or result["echoscu_exit_code"] not in (0, 70):
            continue
        done.add(config.seed_target)
        from ..module_utils import _tls_context  # pylint: disable=import-outside-toplevel

        problem = _tls_context.write_seed(config.seed_target)
        if problem:
            module.warn("the random seed could not be written (echoscu would not say so): %s" % problem)


def main():
    module = ProbeModule(argument_spec=module_argument_spec(), supports_check_mode=True)
    params = module.params
    # again after Ansible's conversions: an entry given as a string is a dict only now
    module.no_log_values.update(secret_values(params))
    if any(params[name] for name in OFFLINE_ACTIONS):
        _offline(module, params)
    try:
        requests = build_requests(params)
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason="for %s" % exc.reason), exception=exc.exception,
                         outcome="invalid_input", echoscu_exit_code=1, changed=False)
    except RequestError as exc:
        module.fail_json(msg=str(exc), outcome="invalid_input", echoscu_exit_code=1, changed=False)

    from ..module_utils import _engine  # pylint: disable=import-outside-toplevel  # loaded only after validation

    sink = None
    if params["log_config"]:
        try:
            sink = _log_sink(params["log_config"])
        except Exception as exc:  # pylint: disable=broad-except  # fileConfig raises many kinds for a bad file
            module.fail_json(msg="log_config %s cannot be applied: %s" % (params["log_config"], exc), outcome="invalid_input")

    compact = params["result_detail"] == "compact"
    if not params["endpoints"]:
        result = _engine.probe(requests[0], sink)
        _write_seeds(module, requests, [result])
        if compact:
            result = dict(compact_result(result, requests[0].log_level), changed=False)
        if params["facts"]:
            result["ansible_facts"] = {"dicom_echo": _facts(result)}
        if result["success"]:
            module.exit_json(**result)
        module.fail_json(**result)

    results = _engine.probe_all(requests, params["concurrency"], sink)
    _write_seeds(module, requests, results)
    outcomes = {}
    facts = {}
    for index, (request, result) in enumerate(zip(requests, results)):
        result["name"] = request.name
        if compact:
            result = results[index] = compact_result(result, request.log_level)
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        if params["facts"]:
            facts[request.name] = _facts(result)
    # exit_json copies the whole result (remove_values) and serialises it: with 10,000 endpoints the
    # peak is there, so drop the requests and the event loop's garbage before it.
    del requests
    gc.collect()
    succeeded = outcomes.get("success", 0)
    summary = {"total": len(results), "succeeded": succeeded, "failed": len(results) - succeeded, "outcomes": outcomes}
    report = module.fail_json if succeeded < len(results) else module.exit_json
    extra = {"ansible_facts": {"dicom_echo": facts}} if params["facts"] else {}
    report(changed=False, msg=batch_message(results), results=results, summary=summary, **extra)


if __name__ == "__main__":
    main()
