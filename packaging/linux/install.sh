#!/bin/sh
# Install VPS Health for this user: the bundle under ~/.local/lib, the command in
# ~/.local/bin, the menu entry and icons under ~/.local/share. Run it from the unpacked folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
lib="$HOME/.local/lib/vpshealth"
bin="$HOME/.local/bin"
rm -rf "$lib" && mkdir -p "$lib" "$bin"
cp -a "$here/vpshealth/." "$lib/"
ln -sf "$lib/vpshealth" "$bin/vpshealth"
mkdir -p "$prefix/applications" "$prefix/metainfo" "$prefix/icons"
sed "s|^Exec=vpshealth|Exec=$lib/vpshealth|" "$here/share/applications/io.vpshealth.VPSHealth.desktop" \
    > "$prefix/applications/io.vpshealth.VPSHealth.desktop"
cp "$here/share/metainfo/io.vpshealth.VPSHealth.metainfo.xml" "$prefix/metainfo/"
cp -a "$here/share/icons/hicolor" "$prefix/icons/"
mkdir -p "$prefix/bash-completion/completions" "$prefix/man/man1" "$HOME/.config/fish/completions"
cp "$here/share/bash-completion/completions/vpshealth" "$prefix/bash-completion/completions/"
cp "$here/share/fish/vendor_completions.d/vpshealth.fish" "$HOME/.config/fish/completions/"
cp "$here/share/man/man1/vpshealth.1.gz" "$prefix/man/man1/"
echo "Installed. Start it from your menu or run: $bin/vpshealth"
echo "Background service: $bin/vpshealth service install"
