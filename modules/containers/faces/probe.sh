#!/bin/sh
# Build-time sample inputs (see modules/scripts/images/probe.ts): a grey 64x64 PNG made with OpenCV
# itself (no face in it: the cascade still runs over every scale).
set -e
python3 -c 'import cv2, numpy; cv2.imencode(".png", numpy.full((64, 64, 3), 128, numpy.uint8))[1].tofile("/inputs/image")'
printf '{"image":"probe"}' >/inputs/inputs.json
