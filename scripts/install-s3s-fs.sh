#!/usr/bin/env bash
# Installs s3s-fs, a real S3 server on a folder (from crates.io, built with the machine's
# cargo), into ROOT/bin for the object-store tests:  scripts/install-s3s-fs.sh ROOT
# 0.14.1 is the newest release that builds with Rust 1.95. Takes a minute or two, once.
set -euo pipefail
ROOT="${1:?usage: $0 ROOT}"
if [ -x "$ROOT/bin/s3s-fs" ]; then
  exit 0
fi
cargo install s3s-fs@0.14.1 --features binary --locked --root "$ROOT" --quiet
