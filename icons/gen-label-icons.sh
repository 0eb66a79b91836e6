#!/bin/sh
# Writes icons/scalable/bh-label-<label>.svg: guid's label icons, one per
# label colour: a rounded square in the label colour with a light inner ring
# and a dark outer ring (so it stays visible on a bar of its own colour), and
# a small title-bar stroke. Run by hand after a palette change; the output is
# committed.
set -eu
cd "$(dirname "$0")"
mkdir -p scalable
while read -r name rgb; do
  cat > "scalable/bh-label-$name.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">
  <rect x="0.5" y="0.5" width="15" height="15" rx="3.5" fill="#$rgb" stroke="#000000" stroke-opacity="0.6"/>
  <rect x="1.75" y="1.75" width="12.5" height="12.5" rx="2.5" fill="none" stroke="#ffffff" stroke-width="1.5"/>
  <rect x="4" y="4" width="8" height="2" rx="1" fill="#ffffff"/>
  <rect x="4" y="4" width="8" height="2" rx="1" fill="none" stroke="#000000" stroke-opacity="0.35" stroke-width="0.5"/>
</svg>
SVG
done <<LABELS
red cc0000
orange f57900
yellow edd400
green 73d216
gray 555555
blue 3465a4
purple 75507b
black 000000
LABELS
