# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that the guides in docs/docsite/rst/ still cover what the code offers (`make docs-lint`).

    python tests/docs/check_docsite.py COLLECTION_ROOT

COLLECTION_ROOT must be importable as ansible_collections.dicom.network (the build tree of the
Makefile). Checked, each against its source of truth:

* echoscu_migration.rst names every option of _request.OPTIONS and every echoscu option that the
  module's and the doc fragments' documentation mention (C(-aet), C(+cf), ...);
* troubleshooting.rst has a section for every outcome the module documents, and explains the outcomes only
  the reports give (_reports.REPORT_OUTCOMES), which docs/reports.md lists too;
* audit.rst names every variable of the dicom_audit role's argument spec and a dicom_<option> host
  variable for every endpoint option;
* a default of a module option a guide states (``tls_profile: '8996'`` (default), ``acse_timeout``
  (default 30)) is _request.OPTIONS' default.

Prints what is missing and exits 1, or prints one line and exits 0.
"""

from __future__ import annotations

import importlib
import os
import re
import sys

import yaml


def literals(text):
    """Every ``literal`` of an RST text."""
    return set(re.findall(r"``([^`]+)``", text))


def words(texts):
    """The words of some literals (``-aet``, ``ca_files: [...]`` -> -aet, ca_files, [...])."""
    return set(word for literal in texts for word in re.split(r"[\s:,=]+", literal))


def table_rows(text, header):
    """The rows of the list-tables of an RST text whose first header cell is ``header``, as lists of
    cell texts (the header row left out)."""
    rows = []
    for table in text.split(".. list-table::")[1:]:
        table = re.split(r"^\S", table, maxsplit=1, flags=re.MULTILINE)[0]
        table_rows_ = [re.split(r"^     - ?", row.split("\n\n", 1)[0], flags=re.MULTILINE)
                       for row in re.split(r"^   \* - ", table, flags=re.MULTILINE)[1:]]
        if table_rows_ and table_rows_[0][0].strip() == header:
            rows.extend(table_rows_[1:])
    return rows


def stated_defaults(text, options):
    """What an RST text says the default of a module option is, where that is not OPTIONS' default."""
    problems = []
    stated = [(name, yaml.safe_load(value)) for name, value in re.findall(r"``(\w+): ([^`]+)``\s+\(default\)", text)]
    stated += [(name, yaml.safe_load(value)) for name, value in re.findall(r"``(\w+)``\s+\(default:? (?:``)?([\w.-]+)", text)]
    for name, value in stated:
        if name in options and value != options[name].get("default"):
            problems.append("says the default of %s is %r, the module's is %r" % (name, value, options[name].get("default")))
    return problems


def main(root):
    root = os.path.abspath(root)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(root))))
    request = importlib.import_module("ansible_collections.dicom.network.plugins.module_utils._request")
    module = importlib.import_module("ansible_collections.dicom.network.plugins.modules.dicom_echo")
    rst_dir = os.path.join(root, "docs", "docsite", "rst")

    def read(*parts):
        with open(os.path.join(root, *parts), encoding="utf-8") as handle:
            return handle.read()

    problems = []

    # The migration table: every module option, every echoscu option the module docs mention.
    # In the tables, the first column names echoscu options, the second module options.
    migration = read("docs", "docsite", "rst", "echoscu_migration.rst")
    rows = table_rows(migration, "echoscu")
    echoscu_column = words(literal for row in rows for literal in literals(row[0]))
    module_column = words(literal for row in rows for literal in literals(row[1])) | words(
        literal for row in table_rows(migration, "dicom_echo") for literal in literals(row[0]))
    for option in request.OPTIONS:
        if option not in module_column:
            problems.append("echoscu_migration.rst: module option %s is in no row of the tables" % option)
    module_docs = module.DOCUMENTATION + "".join(
        read("plugins", "doc_fragments", name) for name in sorted(os.listdir(os.path.join(root, "plugins", "doc_fragments")))
        if name.endswith(".py"))
    echoscu_options = set(re.findall(r"C\(([-+][a-z0-9][a-z0-9-]*)\)", module_docs))
    for flag in sorted(echoscu_options):
        if flag not in echoscu_column:
            problems.append("echoscu_migration.rst: echoscu option %s (mentioned in the module's docs) is not in the table" % flag)

    # Troubleshooting: one section per documented outcome.
    returns = yaml.safe_load(module.RETURN)
    outcomes = sorted(set(re.findall(r"V\(([a-z_]+)\)", " ".join(returns["outcome"]["description"]))))
    troubleshooting = read("docs", "docsite", "rst", "troubleshooting.rst")
    headings = set(re.findall(r"^([a-z_]+)\n-{3,}$", troubleshooting, re.MULTILINE))
    for outcome in outcomes:
        if outcome not in headings:
            problems.append("troubleshooting.rst: no section for outcome %s" % outcome)
    if not outcomes:
        problems.append("dicom_echo RETURN: no outcome values found to check against")
    # The outcomes only the reports give (not_probed, invalid_endpoint): explained there and in docs/reports.md.
    reports = importlib.import_module("ansible_collections.dicom.network.plugins.plugin_utils._reports")
    reports_md = read("docs", "reports.md")
    for outcome in reports.REPORT_OUTCOMES:
        if outcome not in literals(troubleshooting):
            problems.append("troubleshooting.rst: report outcome %s is not explained" % outcome)
        if '"%s"' % outcome not in reports_md:
            problems.append("docs/reports.md: report outcome %s is not in the schema" % outcome)

    # The audit guide: role variables and host variables.
    audit = read("docs", "docsite", "rst", "audit.rst")
    audit_words = words(literals(audit))
    spec = yaml.safe_load(read("roles", "dicom_audit", "meta", "argument_specs.yml"))
    for variable in spec["argument_specs"]["main"]["options"]:
        if variable not in audit_words:
            problems.append("audit.rst: role variable %s is not described" % variable)
    for option in sorted(request.ENDPOINT_KEYS - {"name"}):
        if "dicom_" + option not in audit_words:
            problems.append("audit.rst: host variable dicom_%s is not described" % option)

    # Module defaults the guides state: ``option: value`` (default) and ``option`` (default value ...).
    for name in sorted(os.listdir(rst_dir)):
        if name.endswith(".rst"):
            problems.extend("%s: %s" % (name, text) for text in stated_defaults(read("docs", "docsite", "rst", name), request.OPTIONS))

    for name in sorted(os.listdir(rst_dir)):
        if name.endswith(".rst") and not read("docs", "docsite", "rst", name).startswith(
                ".. _ansible_collections.dicom.network.docsite.%s:" % name[:-4]):
            problems.append("%s: does not start with its label ansible_collections.dicom.network.docsite.%s" % (name, name[:-4]))

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("check_docsite: %d module options, %d echoscu options, %d outcomes (+%d of the reports), %d role variables covered"
          % (len(request.OPTIONS), len(echoscu_options), len(outcomes), len(reports.REPORT_OUTCOMES),
             len(spec["argument_specs"]["main"]["options"])))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
