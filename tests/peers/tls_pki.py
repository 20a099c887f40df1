# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway PKI for the TLS tests, made with `cryptography` in a directory of the caller's.

make_pki(directory) writes every file the TLS tests use and returns {name: path}. Nothing is
fetched or reused: each test session makes its own keys (about 1 s on 2 cores).

Files (PEM unless the name says otherwise):
  ca.pem/ca.key            "Test Root CA" (CA:TRUE, keyCertSign+cRLSign)
  ca.der                   the same certificate, DER
  server.pem/server.key    CN=localhost, SAN localhost+127.0.0.1, signed by the CA
  client.pem/client.key    CN=client, signed by the CA; client.der, client.key.der (PKCS#8 DER)
  client_enc.key           client.key encrypted with the password "secret" (PEM, PKCS#8)
  client_enc.key.der       the same, encrypted DER (echoscu cannot load it either)
  client_chain.pem         client.pem followed by ca.pem
  rogue_ca.pem, rogue.pem/rogue.key   a client from another CA ("Rogue CA")
  expired.pem/expired.key  a client of the CA whose validity ended yesterday
  revoked.pem/revoked.key  a client of the CA that ca.crl.pem revokes
  ca.crl.pem / ca.crl.der  the CA's CRL revoking revoked.pem; ca_empty.crl.pem revokes nothing
  ca_srvrevoked.crl.pem    a CRL revoking server.pem
  cadir_hashed/            ca.pem plus its OpenSSL subject-hash link (<hash>.0), and the CRL's (<hash>.r0)
  cadir_plain/             ca.pem under its own name only (what `openssl rehash` has not seen)
  inter.pem, ileaf.pem, ileaf_chain.pem   root -> "Test Intermediate CA" -> ileaf
  server1024.pem/.key      a server certificate with a 1024-bit RSA key
  sha1_leaf.pem            a client certificate signed with SHA-1
  selfleaf.pem             a self-signed certificate with CA:FALSE
  ca_badsig.pem            ca.pem with a corrupted signature
  expired_ca.pem           a self-signed CA that expired yesterday
  not_a_cert.pem           text that is no certificate
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSWORD = "secret"
_NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
_DAY = datetime.timedelta(days=1)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _rsa(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _cert(subject, key, issuer=None, issuer_key=None, ca=False, days=(-1, 825), serial=None, sans=None, eku=None):
    issuer = issuer or subject
    issuer_key = issuer_key or key
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject) if isinstance(subject, str) else subject)
               .issuer_name(_name(issuer) if isinstance(issuer, str) else issuer)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(_NOW + days[0] * _DAY)
               .not_valid_after(_NOW + days[1] * _DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=ca)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(ca_cert, ca_key, revoked=()):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(_NOW - _DAY).next_update(_NOW + 30 * _DAY))
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(_NOW - _DAY).build())
    return builder.sign(ca_key, hashes.SHA256())


def _pem(obj):
    return obj.public_bytes(serialization.Encoding.PEM)


def _key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def subject_hash(pem_path):
    """OpenSSL's subject-name hash of a certificate, as `openssl x509 -hash` prints it."""
    return subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", pem_path], check=True, capture_output=True,
                          text=True, timeout=30).stdout.strip()


def make_pki(directory):
    os.makedirs(directory, exist_ok=True)
    paths = {}

    def write(name, data, mode=0o644):
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)
        paths[name] = path
        return path

    ca_key = _rsa()
    ca = _cert("Test Root CA", ca_key, ca=True, days=(-1, 3650))
    write("ca.pem", _pem(ca))
    write("ca.key", _key_pem(ca_key), 0o600)
    write("ca.der", ca.public_bytes(serialization.Encoding.DER))

    server_key = _rsa()
    server = _cert("localhost", server_key, "Test Root CA", ca_key,
                   sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    write("server.pem", _pem(server))
    write("server.key", _key_pem(server_key), 0o600)

    client_key = _rsa()
    client = _cert("client", client_key, "Test Root CA", ca_key)
    write("client.pem", _pem(client))
    write("client.key", _key_pem(client_key), 0o600)
    write("client.der", client.public_bytes(serialization.Encoding.DER))
    write("client.key.der", client_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()), 0o600)
    write("client_enc.key", _key_pem(client_key, PASSWORD), 0o600)
    write("client_enc.key.der", client_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                         serialization.BestAvailableEncryption(PASSWORD.encode())), 0o600)
    write("client_chain.pem", _pem(client) + _pem(ca))

    rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
    rogue_ca = _cert("Rogue CA", rogue_ca_key, ca=True)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    write("rogue_ca.pem", _pem(rogue_ca))
    write("rogue.pem", _pem(_cert("client", rogue_key, "Rogue CA", rogue_ca_key)))
    write("rogue.key", _key_pem(rogue_key), 0o600)

    expired_key = ec.generate_private_key(ec.SECP256R1())
    write("expired.pem", _pem(_cert("expired", expired_key, "Test Root CA", ca_key, days=(-30, -1))))
    write("expired.key", _key_pem(expired_key), 0o600)

    revoked_key = ec.generate_private_key(ec.SECP256R1())
    revoked = _cert("revoked", revoked_key, "Test Root CA", ca_key)
    write("revoked.pem", _pem(revoked))
    write("revoked.key", _key_pem(revoked_key), 0o600)
    crl = _crl(ca, ca_key, [revoked])
    write("ca.crl.pem", _pem(crl))
    write("ca.crl.der", crl.public_bytes(serialization.Encoding.DER))
    write("ca_empty.crl.pem", _pem(_crl(ca, ca_key)))
    write("ca_srvrevoked.crl.pem", _pem(_crl(ca, ca_key, [server])))

    hashed = os.path.join(directory, "cadir_hashed")
    plain = os.path.join(directory, "cadir_plain")
    for folder in (hashed, plain):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "ca.pem"), "wb") as handle:
            handle.write(_pem(ca))
    with open(os.path.join(hashed, "ca_empty.crl.pem"), "wb") as handle:
        handle.write(_pem(_crl(ca, ca_key)))
    digest = subject_hash(paths["ca.pem"])
    os.symlink("ca.pem", os.path.join(hashed, digest + ".0"))
    os.symlink("ca_empty.crl.pem", os.path.join(hashed, digest + ".r0"))
    paths["cadir_hashed"], paths["cadir_plain"] = hashed, plain

    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _cert("Test Intermediate CA", inter_key, "Test Root CA", ca_key, ca=True)
    ileaf_key = ec.generate_private_key(ec.SECP256R1())
    ileaf = _cert("ileaf", ileaf_key, "Test Intermediate CA", inter_key)
    write("inter.pem", _pem(inter))
    write("ileaf.pem", _pem(ileaf))
    write("ileaf_chain.pem", _pem(ileaf) + _pem(inter))

    weak_key = _rsa(1024)
    write("server1024.pem", _pem(_cert("localhost", weak_key, "Test Root CA", ca_key, sans=[x509.DNSName("localhost")])))
    write("server1024.key", _key_pem(weak_key), 0o600)

    # cryptography no longer signs with SHA-1; the openssl command still does
    sha1_key = _rsa()
    write("sha1_leaf.key", _key_pem(sha1_key), 0o600)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(_name("sha1leaf")).sign(sha1_key, hashes.SHA256()))
    write("sha1_leaf.csr", _pem(csr))
    paths["sha1_leaf.pem"] = os.path.join(directory, "sha1_leaf.pem")
    subprocess.run(["openssl", "x509", "-req", "-sha1", "-days", "30", "-in", paths["sha1_leaf.csr"], "-CA", paths["ca.pem"],
                    "-CAkey", paths["ca.key"], "-set_serial", "4242", "-out", paths["sha1_leaf.pem"]],
                   check=True, capture_output=True, timeout=30)

    self_key = ec.generate_private_key(ec.SECP256R1())
    write("selfleaf.pem", _pem(_cert("selfleaf", self_key)))

    der = bytearray(ca.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature value, the last element of the certificate
    write("ca_badsig.pem", _pem(x509.load_der_x509_certificate(bytes(der))))
    expired_ca_key = ec.generate_private_key(ec.SECP256R1())
    write("expired_ca.pem", _pem(_cert("Expired CA", expired_ca_key, ca=True, days=(-30, -1))))

    ekuclient_key = _rsa()
    write("srv_ekuclient.pem", _pem(_cert("localhost", ekuclient_key, "Test Root CA", ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])))
    write("srv_ekuclient.key", _key_pem(ekuclient_key), 0o600)

    write("not_a_cert.pem", b"this is not a certificate\n")
    return paths
