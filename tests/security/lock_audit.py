"""Audit requirements.lock for known vulnerabilities with what this project's machines reach.

pip-audit needs PyPI's per-version JSON (``/pypi/NAME/VERSION/json``) or OSV's API; the PyPI
mirror that CI and the developers' machines reach serves neither (404, and OSV's host does not
resolve), so pip-audit skips every package and still says "No known vulnerabilities found".
The mirror does serve the per-project JSON, whose ``vulnerabilities`` list is PyPI's own OSV
feed for the project's *latest* release. So: a pin that is the latest release is audited; a
pin behind it cannot be audited here and is named (``--strict`` fails on it).

    python -m tests.security.lock_audit requirements.lock [--strict] [--json]

Exit status: 0 no known vulnerability, 1 a vulnerable pin (or, with --strict, one that could
not be audited), 2 the registry could not be reached at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
Fetch = Callable[[str], dict[str, Any] | None]  # project name -> its JSON, None: not found


@dataclass
class Audit:
    clean: list[str] = field(default_factory=list)
    vulnerable: dict[str, list[str]] = field(default_factory=dict)  # pin -> advisory ids
    unknown: dict[str, str] = field(default_factory=dict)  # pin -> why it was not audited


def pins(lock: str) -> list[tuple[str, str]]:
    """(name, version) of every `name==version` line; markers and comments left out."""
    found = []
    for line in lock.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = (part.strip() for part in line.split("==", 1))
            found.append((name.split("[", 1)[0], version))
    return found


def audit(pinned: list[tuple[str, str]], fetch: Fetch) -> Audit:
    """Check each pin against the vulnerabilities its project's JSON lists for its latest."""
    result = Audit()
    for name, version in pinned:
        pin = f"{name}=={version}"
        data = fetch(name)
        if data is None:
            result.unknown[pin] = "not on the registry"
            continue
        latest = str(data.get("info", {}).get("version", ""))
        if latest != version:
            result.unknown[pin] = f"not the latest release ({latest}): no data for it here"
            continue
        advisories = sorted(v["id"] for v in data.get("vulnerabilities") or []
                            if not v.get("withdrawn"))
        if advisories:
            result.vulnerable[pin] = advisories
        else:
            result.clean.append(pin)
    return result


def fetch_from_registry(name: str) -> dict[str, Any] | None:
    """The project's JSON from the registry pip uses here."""
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=60) as response:
            data: dict[str, Any] = json.load(response)
            return data
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--strict", action="store_true", help="fail on pins not audited")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = audit(pins(args.lock.read_text()), fetch_from_registry)
    except (urllib.error.URLError, OSError) as e:
        print(f"lock audit: the registry could not be reached: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(f"{len(result.clean)} pins audited clean, {len(result.vulnerable)} vulnerable, "
              f"{len(result.unknown)} not auditable here")
        for pin, ids in result.vulnerable.items():
            print(f"VULNERABLE {pin}: {', '.join(ids)}")
        for pin, why in result.unknown.items():
            print(f"not audited {pin}: {why}")
    failed = bool(result.vulnerable) or (args.strict and bool(result.unknown))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
