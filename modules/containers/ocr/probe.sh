#!/bin/sh
# Build-time sample inputs (see modules/scripts/images/probe.ts): a small white PGM image (no text,
# so the recogniser runs its whole pipeline on a page and finds nothing).
set -e
{ printf 'P5\n64 32\n255\n'; head -c 2048 /dev/zero | tr '\000' '\377'; } >/inputs/image
printf '{"image":"probe","psm":3}' >/inputs/inputs.json
