#!/bin/sh
# Pack "VPS Health.app" into a .dmg (macOS only). Usage: packaging/macos/make-dmg.sh VERSION
set -eu
cd "$(dirname "$0")/../.."
mkdir -p dist
hdiutil create -volname "VPS Health" -srcfolder "build/pyinstaller/VPS Health.app" \
    -ov -format UDZO "dist/vpshealth-$1-macos.dmg"
