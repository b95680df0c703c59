#!/usr/bin/env python3
"""Validates FHIR R4 searchset Bundles (one JSON document per file), independently of wardgate.

Usage: python3 validate_bundle.py FILE.json...

Each document is parsed with Python's json module (duplicate member names refused) and validated
with the R4B Bundle model of `fhir.resources` (R4B shares Bundle with R4), which checks element
names, cardinalities, codes such as search.mode, and the contained resources' structure
(Observation, Provenance, OperationOutcome). On top of that: type is "searchset", every entry
has search.mode, every match/include entry has a resource and an absolute fullUrl, and no
element is an empty array, object or string, or null (FHIR JSON forbids them).

Exit status: 0 when every document is valid, 1 when one is not (errors printed), 2 on usage
errors, 3 when fhir.resources is not installed.
"""
import json
import sys

try:
    from fhir.resources.R4B.bundle import Bundle
except ImportError as error:
    print(f"fhir.resources with R4B models is not importable ({error}); pip install fhir.resources", file=sys.stderr)
    sys.exit(3)


def no_duplicates(pairs):
    names = [name for name, _ in pairs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate member names {duplicates}")
    return dict(pairs)


def no_empty(value, path="Bundle"):
    """FHIR JSON: no empty arrays, objects or strings, and no nulls."""
    if value is None or value == [] or value == {} or value == "":
        raise ValueError(f"{path} is empty or null")
    if isinstance(value, list):
        for i, item in enumerate(value):
            no_empty(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_empty(item, f"{path}.{key}")


def check(document):
    no_empty(document)
    if hasattr(Bundle, "model_validate"):
        Bundle.model_validate(document)
    else:
        Bundle.parse_obj(document)
    if document.get("type") != "searchset":
        raise ValueError(f"type is {document.get('type')!r}, not 'searchset'")
    for i, entry in enumerate(document.get("entry", [])):
        mode = entry.get("search", {}).get("mode")
        if mode not in ("match", "include", "outcome"):
            raise ValueError(f"entry[{i}].search.mode is {mode!r}")
        if mode in ("match", "include"):
            if "resource" not in entry:
                raise ValueError(f"entry[{i}] has no resource")
            url = entry.get("fullUrl", "")
            if not (url.startswith("urn:uuid:") or url.startswith("urn:") or url.startswith("http")):
                raise ValueError(f"entry[{i}].fullUrl {url!r} is not absolute")


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                document = json.loads(f.read(), object_pairs_hook=no_duplicates)
            check(document)
        except Exception as error:  # noqa: BLE001 - every failure is reported
            failed = True
            print(f"{path}: {error}", file=sys.stderr)
    if failed:
        return 1
    print(f"validated {len(paths)} Bundles")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
