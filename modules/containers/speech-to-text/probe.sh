#!/bin/sh
# Build-time sample inputs (see modules/scripts/images/probe.ts): half a second of a 440 Hz tone as
# a 22.05 kHz WAV (so sox resamples it), decoded with the digits grammar.
set -e
sox -n -r 22050 -b 16 -c 1 -t wav /inputs/audio synth 0.5 sine 440
printf '{"audio":"probe","vocabulary":"digits"}' >/inputs/inputs.json
