#!/bin/sh
# Make the .icns from the drawn PNGs, and pack "VPS Health.app" into a .dmg (macOS only).
# Usage: packaging/macos/make-dmg.sh VERSION
set -eu
cd "$(dirname "$0")/../.."
version="$1"
set_dir=build/macos/vpshealth.iconset
mkdir -p "$set_dir"
for size in 16 32 128 256 512; do
    cp "packaging/icons/hicolor/${size}x${size}/apps/vpshealth.png" "$set_dir/icon_${size}x${size}.png"
done
iconutil -c icns "$set_dir" -o packaging/icons/vpshealth.icns
hdiutil create -volname "VPS Health" -srcfolder "build/pyinstaller/VPS Health.app" \
    -ov -format UDZO "dist/vpshealth-$version-macos.dmg"
