#!/bin/sh
# Renders a report.html in headless Chromium at a phone's width (360 px) and a desktop's (1200 px) and saves the
# screenshots beside it (report-360.png, report-1200.png). Installs Debian's chromium when it is missing (as root).
#   sh tools/report/screenshots.sh DIR/report.html [OUT_DIR]
set -eu
report=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=${2:-$(dirname "$report")}
mkdir -p "$out"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "needs chromium (sudo apt-get install -y chromium)" >&2
        exit 1
    fi
fi
# Tall enough for a whole study's report (breast_cancer's: about 4900 px at 1200 px wide, 6700 px at 360).
for size in 360,7400 1200,5200; do
    width=${size%,*}
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$size" \
        --screenshot="$out/report-$width.png" "file://$report" 2>/dev/null
    echo "$out/report-$width.png"
done
