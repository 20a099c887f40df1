# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the option set: every refusal names the option, nothing is truncated."""

from __future__ import annotations

import pytest

from ansible_collections.dicom.network.plugins.module_utils._request import (  # pylint: disable=protected-access
    OPTIONS,
    EchoRequest,
    RequestError,
    _coerce,
    build_request,
    build_requests,
    check_endpoint,
    check_value,
    kind_of,
    module_argument_spec,
    secret_values,
    validate_ae_title,
)
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import (
    ECHOSCU_TRANSFER_SYNTAXES,
    VERIFICATION_SOP_CLASS,
)


def one(**params):
    return build_requests(params)[0]


def test_defaults_are_echoscus():
    request = one(host="pacs.example.org")
    assert (request.port, request.calling_aet, request.called_aet) == (104, "ECHOSCU", "ANY-SCP")
    assert (request.socket_timeout, request.acse_timeout, request.connection_timeout, request.dimse_timeout) == (60, 30, None, None)
    assert request.max_pdu == 16384 and request.repeat == 1 and request.abort is False
    assert request.contexts == ((VERIFICATION_SOP_CLASS, ("1.2.840.10008.1.2",)),)


def test_propose_ts_and_pc_lay_out_like_echoscu():
    request = one(host="h", propose_ts=53, propose_pc=128)
    assert len(request.contexts) == 128
    assert all(context == (VERIFICATION_SOP_CLASS, tuple(uid for uid, _n, _k in ECHOSCU_TRANSFER_SYNTAXES)) for context in request.contexts)
    # the 3.7.0 order, not the manual page's: entry 4 is Encapsulated Uncompressed, 25 Deflated Image Frame
    assert request.contexts[0][1][3] == "1.2.840.10008.1.2.1.98"
    assert request.contexts[0][1][24] == "1.2.840.10008.1.2.8.1"
    assert "1.2.804.10008.1.2.4.93" not in request.contexts[0][1]


def test_the_list_has_53_distinct_uids():
    uids = [uid for uid, _n, _k in ECHOSCU_TRANSFER_SYNTAXES]
    assert len(uids) == 53 == len(set(uids))


def test_aliases_map_to_options():
    request = one(peer="h", aetitle="ME", call="THEM", timeout=5)
    assert (request.host, request.calling_aet, request.called_aet, request.connection_timeout) == ("h", "ME", "THEM", 5)


@pytest.mark.parametrize("value, words", [
    ("ABCDEFGHIJKLMNOPQ", "17 characters"),
    ("", "empty"),
    ("    ", "all spaces"),
    ("A\\B", "backslash"),
    ("A\tB", "control character"),
    ("ÄRZTE", "ASCII"),
])
def test_ae_titles_are_refused_not_truncated(value, words):
    with pytest.raises(RequestError, match="calling_aet") as info:
        one(host="h", calling_aet=value)
    assert words in str(info.value)


def test_ae_title_of_16_with_inner_spaces_is_fine():
    assert validate_ae_title("called_aet", "A B CDEFGHIJKLMN") == "A B CDEFGHIJKLMN"


@pytest.mark.parametrize("option, value", [
    ("port", 0), ("port", 65536), ("propose_ts", 0), ("propose_ts", 54), ("propose_pc", 129),
    ("max_pdu", 4095), ("max_pdu", 131073), ("repeat", 0), ("connection_timeout", 0),
    ("acse_timeout", 0), ("dimse_timeout", 0), ("socket_timeout", -1),
])
def test_ranges_name_the_option(option, value):
    with pytest.raises(RequestError, match="^%s must be" % option):
        one(host="h", **{option: value})


def test_choices_and_types():
    with pytest.raises(RequestError, match="ip_protocol must be one of"):
        one(host="h", ip_protocol="ipx")
    with pytest.raises(RequestError, match="port must be an integer"):
        one(host="h", port="abc")
    with pytest.raises(RequestError, match="abort must be a boolean"):
        one(host="h", abort="maybe")


def test_host_is_required_and_checked():
    with pytest.raises(RequestError, match="host is required"):
        one()
    with pytest.raises(RequestError, match="neither a valid host name"):
        one(host="bad host")
    assert one(host="[fd00::5]").host == "fd00::5"
    assert one(host="fe80::1%lo").host == "fe80::1%lo"


def test_endpoints_inherit_and_override():
    requests = build_requests({
        "called_aet": "ARCHIVE", "acse_timeout": 7,
        "endpoints": [{"host": "a"}, {"host": "b", "called_aet": "OTHER", "port": 11112, "name": "b-node"}],
    })
    assert [(r.host, r.called_aet, r.port, r.acse_timeout, r.name) for r in requests] == [
        ("a", "ARCHIVE", 104, 7, "ARCHIVE@a:104"), ("b", "OTHER", 11112, 7, "b-node")]


def test_endpoint_errors_name_their_position():
    with pytest.raises(RequestError, match=r"^endpoints\[1\]\.port must be 1\.\.65535"):
        build_requests({"endpoints": [{"host": "a"}, {"host": "b", "port": 70000}]})
    with pytest.raises(RequestError, match=r"endpoints\[0\]\.colour is not an endpoint option"):
        build_requests({"endpoints": [{"host": "a", "colour": "red"}]})
    with pytest.raises(RequestError, match=r"endpoints\[1\] repeats the name"):
        build_requests({"endpoints": [{"host": "a"}, {"host": "a"}]})
    with pytest.raises(RequestError, match="mutually exclusive"):
        build_requests({"host": "a", "endpoints": [{"host": "b"}]})
    with pytest.raises(RequestError, match="at least one"):
        build_requests({"endpoints": []})


def test_argument_spec_comes_from_the_one_option_table():
    spec = module_argument_spec()
    assert set(spec) == set(OPTIONS)
    assert spec["calling_aet"] == {"type": "str", "default": "ECHOSCU", "aliases": ["aetitle"]}
    assert "min" not in spec["port"] and "endpoint" not in spec["port"]


def test_endpoint_aliases_override_and_conflict():
    requests = build_requests({"called_aet": "ARCHIVE", "endpoints": [{"host": "a", "call": "OTHER"}, {"host": "b"}]})
    assert [r.called_aet for r in requests] == ["OTHER", "ARCHIVE"]
    with pytest.raises(RequestError, match=r"^endpoints\[0\]\.called_aet is given twice"):
        build_requests({"endpoints": [{"host": "a", "call": "ONE", "called_aet": "TWO"}]})


def test_secret_values_are_the_entry_passwords_of_every_shape():
    params = {"private_key_password": "top-level-is-ansibles-job", "endpoints": [
        {"host": "a", "private_key_password": "entry-secret"},
        {"host": "b", "private_key_password": 4711},
        {"host": "c", "private_key_password": ["in-a-list", {"deeper": "in-a-dict"}, True, None]},
        {"host": "d", "private_key_password": ""},
        {"host": "e", "called_aet": "NOT-SECRET"},
        "not a dict",
    ]}
    assert secret_values(params) == {"entry-secret", "4711", "in-a-list", "in-a-dict"}
    assert secret_values({"endpoints": "a string Ansible has not converted yet"}) == set()
    assert secret_values({"host": "h"}) == set()


@pytest.mark.parametrize("value, kind", [(["in-a-list"], "a list"), ({"k": "in-a-dict"}, "a dict"), (True, "a boolean")])
def test_a_refused_password_is_not_repeated(value, kind):
    with pytest.raises(RequestError) as info:
        build_requests({"endpoints": [{"host": "h", "private_key_password": value}]})
    message = str(info.value)
    assert message.startswith("endpoints[0].private_key_password must be a string, got %s" % kind), message
    assert "in-a-" not in message and "True" not in message, message


def test_a_numeric_password_is_accepted():
    # YAML makes `private_key_password: 4711` a number; echoscu +pw would take it as text
    request = build_requests({"endpoints": [{"host": "h", "private_key_password": 4711}]})[0]
    assert request.tls is None  # TLS options without tls are accepted and ignored


class TaggedStr(str):
    """What Ansible hands plugins for a YAML string: AnsibleUnicode on 2.16, _AnsibleTaggedStr on 2.19."""


class TaggedInt(int):
    """What ansible-core 2.19 hands plugins for a YAML number (_AnsibleTaggedInt)."""


def _inexact(value, where):
    """Where a value of a request is a subclass of str or int instead of exactly that."""
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value) for found in _inexact(item, "%s[%d]" % (where, index))]
    if isinstance(value, (str, int)) and type(value) not in (str, int, bool):  # pylint: disable=unidiomatic-typecheck
        return ["%s is %s" % (where, type(value).__name__)]
    return []


def test_every_string_and_number_of_a_request_is_exactly_str_or_int():
    params = {
        TaggedStr("host"): TaggedStr("127.0.0.1"), "port": TaggedInt(11112), "called_aet": TaggedStr("ARCHIVE"),
        "aetitle": TaggedStr("ME"), "ip_protocol": TaggedStr("ipv4"), "connection_timeout": TaggedStr("5"),
        "socket_timeout": TaggedInt(7), "acse_timeout": TaggedInt(9), "dimse_timeout": TaggedInt(11), "max_pdu": TaggedInt(32768),
        "repeat": TaggedInt(2), "log_level": TaggedStr("debug"), "propose_ts": TaggedInt(3), "propose_pc": TaggedStr("2"),
        "abort": TaggedStr("yes"),
    }
    request = build_requests(params)[0]
    values = {slot: getattr(request, slot) for slot in EchoRequest.__slots__}
    assert [found for slot, value in values.items() for found in _inexact(value, slot)] == []
    assert (request.host, request.port, request.calling_aet, request.connection_timeout, request.abort) == ("127.0.0.1", 11112, "ME", 5, True)


def test_endpoint_entries_and_names_come_out_exact_too():
    entries = [{"name": TaggedStr("pacs"), "host": TaggedStr("[::1]"), "port": TaggedInt(104)},
               {"peer": TaggedStr("10.0.0.5"), "ciphers": [TaggedStr("TLS_AES_128_GCM_SHA256")]}]
    requests = build_requests({"endpoints": entries, "called_aet": TaggedStr("STORESCP")})
    for request in requests:
        values = {slot: getattr(request, slot) for slot in EchoRequest.__slots__}
        assert [found for slot, value in values.items() for found in _inexact(value, slot)] == [], request.name
    assert [request.name for request in requests] == ["pacs", "STORESCP@10.0.0.5:104"]
    assert requests[0].host == "::1"


@pytest.mark.parametrize("spec, value, expected", [
    ({"type": "str"}, TaggedStr("x"), "x"),
    ({"type": "path"}, TaggedStr("/ca.pem"), "/ca.pem"),
    ({"type": "int"}, TaggedInt(4), 4),
    ({"type": "list", "elements": "str"}, [TaggedStr("a"), TaggedStr("b")], ["a", "b"]),
    ({"type": "list", "elements": "path"}, TaggedStr("/one.pem"), ["/one.pem"]),
    ({"type": "list", "elements": "str"}, TaggedStr("a, b"), ["a", "b"]),
    ({"type": "str", "choices": ["ipv4", "ipv6"]}, TaggedStr("ipv6"), "ipv6"),
])
def test_coerce_returns_exact_types(spec, value, expected):
    coerced = _coerce("option", spec, value)
    assert coerced == expected and _inexact(coerced, "option") == []


@pytest.mark.parametrize("value, kind", [
    ({}, "a dict"), ([], "a list"), ("", "a string"), (TaggedStr("x"), "a string"), (TaggedInt(1), "a number"), (1.5, "a number"),
    (True, "a boolean"), (None, "null"),
])
def test_kind_of_names_yaml_kinds_not_ansible_classes(value, kind):
    assert kind_of(value) == kind


def test_check_endpoint_applies_build_requests_rules_without_reading_tls_files():
    """The dicom_audit role checks host variables on the controller with it; TLS files are on the probe host."""
    values = {"host": "[fd00::5]", "port": "11112", "call": "ARCHIVE", "tls": "yes", "ca_files": "/only/on/the/probe/host.pem"}
    checked = check_endpoint(values, prefix="dicom_")
    assert (checked["host"], checked["port"], checked["called_aet"], checked["tls"], checked["ca_files"]) == \
        ("fd00::5", 11112, "ARCHIVE", True, ["/only/on/the/probe/host.pem"])
    assert checked["name"] is None and checked["calling_aet"] == "ECHOSCU"
    with pytest.raises(RequestError, match="ca_files|cryptography"):
        build_request(values)  # where the probe runs, the missing file (or library) is refused
    for bad, message in (({"ip_protocol": "ip4"}, "dicom_ip_protocol must be one of ipv4, ipv6, auto, got 'ip4'"),
                         ({"port": "abc"}, "dicom_port must be an integer, got 'abc'"),
                         ({"calling_aet": "A\\B"}, "dicom_calling_aet 'A\\\\B' contains a backslash"),
                         ({"tls": True, "sni": "a b"}, "dicom_sni 'a b' is not a host name"),
                         ({"timeout": 3, "connection_timeout": 4}, "dicom_connection_timeout is given twice")):
        with pytest.raises(RequestError) as info:
            check_endpoint(dict({"host": "h"}, **bad), prefix="dicom_")
        assert message in str(info.value)
        with pytest.raises(RequestError):
            build_request(dict({"host": "h"}, **bad))


def test_check_value_uses_the_option_spec():
    assert check_value("port", "104", "dicom_plain_port") == 104
    assert check_value("query_model", "worklist") == "worklist"
    with pytest.raises(RequestError, match="dicom_plain_port must be 1..65535, got 0"):
        check_value("port", 0, "dicom_plain_port")
    with pytest.raises(RequestError, match="query_model must be one of study, worklist, got 'patient'"):
        check_value("query_model", "patient")


def test_option_properties_are_derived_from_the_table():
    from ansible_collections.dicom.network.plugins.module_utils import _request  # pylint: disable=import-outside-toplevel

    assert _request.ECHO_ONLY_OPTIONS == {"propose_ts", "propose_pc", "repeat", "abort", "facts", "result_detail"}
    assert _request.ENDPOINT_KEYS - _request.NEGOTIATION_KEYS == {"propose_ts", "propose_pc", "repeat", "abort", "log_level"}
    assert _request.LOG_LEVELS == tuple(OPTIONS["log_level"]["choices"])
    assert OPTIONS["propose_pc"]["max"] == _request.MAX_CONTEXTS == 128


@pytest.mark.parametrize("host, label", [
    ("pacs1", "ARCHIVE@pacs1:104"),
    ("fd00::5", "ARCHIVE@[fd00::5]:104"),
    ("[fd00::5]", "ARCHIVE@[fd00::5]:104"),
])
def test_endpoint_label_brackets_ipv6_literals_once(host, label):
    from ansible_collections.dicom.network.plugins.module_utils._request import endpoint_label  # pylint: disable=import-outside-toplevel

    assert endpoint_label("ARCHIVE", host, 104) == label
    assert one(host=host, called_aet="ARCHIVE").name == label
