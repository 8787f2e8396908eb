#!/usr/bin/env bash
# Build durable-rules from its PyPI sdist with the project's patches (patches/durable-rules-*.patch) and install it
# into the virtual environment given: patches/install-durable-rules.sh .venv
# durable-rules ships only as an sdist; its setup.py drops CFLAGS, so the C core is optimised through CPPFLAGS.
set -euo pipefail
venv=$1
here=$(cd "$(dirname "$0")" && pwd)
version=2.0.28
sha256=053b26f5e48d312d4fa27995243f954671be6eece477f150c059c364eb4d7d61
work=$(mktemp -d "${TMPDIR:-/tmp}/durable-rules.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$venv/bin/pip" download -q --no-deps --no-binary :all: "durable-rules==$version" -d "$work"
echo "$sha256  $work/durable_rules-$version.tar.gz" | sha256sum -c --quiet
tar xzf "$work/durable_rules-$version.tar.gz" -C "$work"
for p in "$here"/durable-rules-*.patch; do
    patch -s -p1 -d "$work/durable_rules-$version" < "$p"
done
CPPFLAGS="${CPPFLAGS:--O2}" "$venv/bin/pip" install -q --no-cache-dir "$work/durable_rules-$version"
"$venv/bin/python" -c 'import durable_rules_engine as d; assert hasattr(d, "assert_fact_fired"), "patch not built"'
