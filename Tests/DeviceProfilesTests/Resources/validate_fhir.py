#!/usr/bin/env python3
"""Validates FHIR R4 Observations, one JSON object per line (NDJSON), independently of wardgate.

Usage: python3 validate_fhir.py FILE.ndjson

Each line is parsed with Python's json module (duplicate member names refused, decimals kept as
Decimal) and validated with the R4B Observation model of the `fhir.resources` package (pydantic),
which checks element names (unknown ones are refused), cardinalities, primitive formats (id,
uri, code, decimal, dateTime, instant) and datatype structure. R4B shares Observation's structure
with R4. On top of that, a few invariants the models do not enforce are checked here:
  - resourceType is "Observation" and status is a code of the R4 ObservationStatus value set;
  - obs-6: dataAbsentReason only when there is no value[x] (Observation and each component);
  - obs-7: a component's code differs from the Observation's code;
  - vs-2 (vital-signs profile): a value[x], a dataAbsentReason or components;
  - a Quantity's value is a JSON number (FHIR JSON writes decimals as numbers; the models
    would also accept a string such as "72").

Exit status: 0 when every line is valid, 1 when a line is not (the errors are printed),
2 on usage errors or an empty file, 3 when fhir.resources is not installed.
Install the validator with: pip install fhir.resources
"""
import json
import sys
from decimal import Decimal

try:
    from fhir.resources.R4B.observation import Observation
except ImportError as error:  # Missing package: fail loudly, never skip.
    print(f"fhir.resources with R4B models is not importable ({error}); install it with: pip install fhir.resources",
          file=sys.stderr)
    sys.exit(3)

STATUSES = {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}


def validate_model(obj):
    # fhir.resources >= 7 is on pydantic 2 (model_validate); older releases have parse_obj.
    if hasattr(Observation, "model_validate"):
        return Observation.model_validate(obj)
    return Observation.parse_obj(obj)


def no_duplicates(pairs):
    names = [name for name, _ in pairs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate member names {duplicates}")
    return dict(pairs)


def value_keys(element):
    return [key for key in element if key.startswith("value")]


def invariants(obj):
    problems = []
    if obj.get("resourceType") != "Observation":
        problems.append(f"resourceType is {obj.get('resourceType')!r}, not 'Observation'")
    if obj.get("status") not in STATUSES:
        problems.append(f"status {obj.get('status')!r} is not an ObservationStatus code")
    if value_keys(obj) and "dataAbsentReason" in obj:
        problems.append("obs-6: dataAbsentReason present together with a value")
    if not (value_keys(obj) or "dataAbsentReason" in obj or obj.get("component")):
        problems.append("vs-2: no value, no dataAbsentReason and no component")
    for where, element in [("", obj)] + [(f"component[{i}].", c) for i, c in enumerate(obj.get("component", []))]:
        quantity = element.get("valueQuantity")
        if isinstance(quantity, dict) and "value" in quantity and (
                isinstance(quantity["value"], bool) or not isinstance(quantity["value"], (int, Decimal))):
            problems.append(f"{where}valueQuantity.value {quantity['value']!r} is not a JSON number")
    code = obj.get("code", {}).get("coding", [])
    for index, component in enumerate(obj.get("component", [])):
        if value_keys(component) and "dataAbsentReason" in component:
            problems.append(f"obs-6: component[{index}] has a dataAbsentReason and a value")
        if not (value_keys(component) or "dataAbsentReason" in component):
            problems.append(f"vs-3: component[{index}] has neither a value nor a dataAbsentReason")
        if component.get("code", {}).get("coding", []) == code:
            problems.append(f"obs-7: component[{index}] has the Observation's own code")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        print(f"{argv[1]}: no Observations to validate", file=sys.stderr)
        return 2
    failures = 0
    for number, line in enumerate(lines, start=1):
        obj = None
        try:
            obj = json.loads(line, parse_float=Decimal, object_pairs_hook=no_duplicates)
            if not isinstance(obj, dict):
                raise ValueError(f"line is a JSON {type(obj).__name__}, not an object")
            validate_model(obj)
            problems = invariants(obj)
            if problems:
                raise ValueError("; ".join(problems))
        except Exception as error:  # noqa: BLE001 - report every kind of failure with its line
            failures += 1
            ident = obj.get("id") if isinstance(obj, dict) else "?"
            print(f"line {number} (id {ident}): {type(error).__name__}: {error}", file=sys.stderr)
    if failures:
        print(f"{failures} of {len(lines)} Observations are not valid FHIR R4", file=sys.stderr)
        return 1
    print(f"validated {len(lines)} Observations")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
