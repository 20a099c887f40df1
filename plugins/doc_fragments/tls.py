# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """TLS options shared by the dicom_echo module and the transfer_syntaxes lookup.

    The values are validated by plugins/module_utils/_request.py (OPTIONS) and _tls_context.py; keep them in step.
    """

    DOCUMENTATION = r"""
options:
  tls:
    description:
      - Use TLS (echoscu C(+tls) with O(private_key) and O(certificate), C(+tla) anonymous TLS without them; C(-tls) when false).
      - The other TLS options are ignored while this is false (echoscu refuses them without C(+tls)/C(+tla)).
    type: bool
    default: false
  private_key:
    description:
      - Our private key, for TLS with client authentication (the first file of echoscu C(+tls)). Requires O(certificate).
      - In the format of O(key_format). An encrypted key needs O(private_key_password).
    type: path
  certificate:
    description:
      - Our certificate (the second file of echoscu C(+tls)). Requires O(private_key).
      - A PEM file may hold the chain after the certificate, leaf first; a DER file holds one certificate.
    type: path
  private_key_password:
    description:
      - The password of an encrypted O(private_key) (echoscu C(+pw); an empty string is echoscu C(-pw)).
      - An encrypted key without it is a clear error, never a prompt (echoscu C(+ps) prompts on the terminal, which a module cannot answer).
        It is ignored for an unencrypted key, as in echoscu.
    type: str
  key_format:
    description:
      - Format of O(private_key), O(certificate), O(ca_files), the files of O(ca_dirs), O(crl_files) and the offline certificate
        actions (echoscu C(-pem), C(-der)).
      - DER keys and certificates are converted with C(cryptography) into a temporary file of mode 0600, removed once loaded.
        An encrypted DER key is refused, as echoscu cannot load one either.
    type: str
    choices: [pem, der]
    default: pem
  ca_files:
    description:
      - Files of trusted CA certificates (and CRLs) to verify the peer with (echoscu C(+cf), repeatable).
      - There is no system trust store, as in echoscu. A missing or unloadable file is an error (echoscu warns and goes on).
    type: list
    elements: path
    default: []
    aliases: [add_cert_file]
  ca_dirs:
    description:
      - OpenSSL hashed certificate directories (echoscu C(+cd)). Certificates are found only under their subject-hash names
        (C(<hash>.0), CRLs C(<hash>.r0)), which C(openssl rehash DIR) (or C(c_rehash)) creates.
      - A verification failure against a directory without such names says so in the message.
    type: list
    elements: path
    default: []
    aliases: [add_cert_dir]
  crl_files:
    description:
      - Certificate revocation lists to check the peer's certificate with (echoscu C(+crl), repeatable). Implies O(crl_check=leaf)
        unless O(crl_check=chain).
    type: list
    elements: path
    default: []
    aliases: [add_crl_file]
  crl_check:
    description:
      - CRL checking of the peer's certificate, V(none), V(leaf) (echoscu C(+crv)) or V(chain) (every certificate of the chain,
        echoscu C(+cra)). With checking on, a missing CRL for an issuer fails the verification, as in OpenSSL.
    type: str
    choices: [none, leaf, chain]
    default: none
  tls_profile:
    description:
      - The DICOM TLS security profile (echoscu C(+pg) V(8996), C(+pm) V(8996-mod), C(+py) V(bcp195-nd), C(+px) V(bcp195),
        C(+pz) V(bcp195-ex), C(+pb) V(basic), C(+pa) V(aes), C(+pn) V(null)), with the TLS versions and ciphersuites DCMTK 3.7.0 gives them.
      - V(8996) is DCMTK 3.7.0's default; DCMTK 3.6.7 (Debian 12) defaults to V(bcp195-nd).
        The O(dicom.network.dicom_echo#module:list_profiles) action lists them with their versions and suites and says which
        this machine's OpenSSL can do; a profile it cannot do (V(basic) needs 3DES, absent from OpenSSL 3 builds) is a clear
        error naming it.
    type: str
    choices: ['8996', '8996-mod', bcp195-nd, bcp195, bcp195-ex, basic, aes, 'null']
    default: '8996'
  ciphers:
    description:
      - TLS 1.2 (and older) ciphersuites by IANA name, added after the profile's own, in order (echoscu C(+cs), repeatable).
      - The profile's rules apply as in DCMTK 3.7.0. Unencrypted (NULL) suites are refused except with V(null); V(8996) also refuses
        SHA-1 MAC suites and warns about static RSA, DHE and CBC suites; V(8996-mod) and V(bcp195-ex) take no extra suites.
        O(dicom.network.dicom_echo#module:list_ciphers) lists the names.
      - TLS 1.3 suites cannot be chosen (nor in echoscu); OpenSSL's defaults are offered whenever the profile allows TLS 1.3.
    type: list
    elements: str
    default: []
    aliases: [cipher]
  sni:
    description:
      - The host name to send as TLS Server Name Indication (echoscu C(--request-sni)); none by default (echoscu C(--no-sni)).
      - It is never compared with the peer's certificate; no host name is, as in echoscu.
    type: str
    aliases: [request_sni]
  seed_file:
    description:
      - A file mixed into OpenSSL's random generator (echoscu C(+rs)); a missing file is ignored, as in echoscu.
        OpenSSL 3 seeds itself, so this only adds to its entropy.
    type: path
    aliases: [seed]
  write_seed:
    description:
      - After the run write 1024 bytes of the random generator's output back to O(seed_file), mode 0600 (echoscu C(+ws)).
        Requires O(seed_file). Skipped in check mode; a write failure is a warning (echoscu ignores it).
    type: bool
    default: false
  write_seed_file:
    description:
      - Write the random generator's state to this file instead (echoscu C(+wf)); requires O(seed_file), excludes O(write_seed).
    type: path
  verify_peer_cert:
    description:
      - Verify the peer's certificate chain against O(ca_files) and O(ca_dirs) and fail the handshake if it does not verify
        (echoscu C(-rc)); false accepts any certificate (echoscu C(-ic)).
      - The host name is never checked, as in echoscu.
    type: bool
    default: true
  tls_version:
    version_added: 0.2.0
    description:
      - Offer this one TLS version only, with every ciphersuite this machine's OpenSSL has for it (at security level 0), instead of the
        versions and suites of O(tls_profile); O(ciphers) cannot be combined with it. No echoscu equivalent.
      - For finding out which versions a peer accepts (the C(tls_versions) check of the roles); the association then proceeds as usual.
      - A version this machine's OpenSSL cannot offer is refused before any network traffic; O(dicom.network.dicom_echo#module:list_profiles)
        returns which versions can be offered here.
    type: str
    choices: [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
"""
