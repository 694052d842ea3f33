#!/bin/sh
# Build-time sample inputs (see modules/scripts/images/probe.ts): two moves from the start, a shallow search.
printf '{"position":"startpos","moves":"e2e4 e7e5","depth":8}' >/inputs/inputs.json
