#!/bin/sh
# Make packaging/icons/vpshealth.icns from the drawn PNGs (macOS only: iconutil).
set -eu
cd "$(dirname "$0")/../.."
set_dir=build/macos/vpshealth.iconset
mkdir -p "$set_dir"
for size in 16 32 128 256 512; do
    cp "packaging/icons/hicolor/${size}x${size}/apps/io.vpshealth.VPSHealth.png" "$set_dir/icon_${size}x${size}.png"
done
iconutil -c icns "$set_dir" -o packaging/icons/vpshealth.icns
